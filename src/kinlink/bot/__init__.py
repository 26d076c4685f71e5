"""The families' messenger door: a Telegram bot over the same workflow as the family pages and the API.

A door like `web` and `api` (it imports neither, and nothing of the domain imports it): `conversation`
translates chat messages into the domain's actions, `texts` renders what the domain says in the chat's
language, `app` runs it by long polling (`kinlink bot`) or takes updates from the webhook route that
`kinlink serve` adds (`kinlink.server.telegram`).
"""
