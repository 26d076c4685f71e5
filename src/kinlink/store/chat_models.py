"""The messenger door's one table: which chat follows which tracing request.

Only the link is kept: the chat's number (to send it news), the request, the language the chat reads in.
Never the secret (the bot checks it once, as the family pages do, and keeps the request it opened), never
the chat's name or messages; `/forget` deletes the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kinlink.store.models import Base, utcnow


class ChatLink(Base):
    __tablename__ = "chat_links"
    __table_args__ = (Index("ix_chat_links_request", "request_id"),)

    # (messenger, chat): one request per chat; a request may be followed from several chats.
    messenger: Mapped[str] = mapped_column(String(20), primary_key=True)  # "telegram"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    request_id: Mapped[int] = mapped_column(Integer, ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(5))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
