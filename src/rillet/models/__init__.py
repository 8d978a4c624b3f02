"""Chat models: the ``ChatModel`` base and ``FakeChatModel`` for tests."""

from rillet.models._base import ChatModel
from rillet.models._fake import FakeChatModel

__all__ = ["ChatModel", "FakeChatModel"]
