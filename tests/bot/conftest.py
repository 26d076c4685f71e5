from tests.web.conftest import client_for, mailbox, server, settings, staff  # noqa: F401
