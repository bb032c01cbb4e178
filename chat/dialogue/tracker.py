"""The deterministic state tracker: reads one message into a `MessageReading`
(what it says, chat/understand/reader.py) and applies it to the dialogue state
(what the conversation now knows, update.py).

Reading and applying are separate so the session can look at a message (is it
a question? does it point at an item that was not shown?) before anything
changes: a bad reference leaves the state exactly as it was.
"""

from __future__ import annotations

from chat.dialogue.update import apply_message
from chat.state import DialogueState
from chat.understand.reader import read_message
from chat.understand.reading import MessageReading
from chat.understand.vocabulary import CatalogVocabulary


class StateTracker(CatalogVocabulary):
    """The catalog's vocabulary plus the two steps of a turn's state update."""

    def update(self, state: DialogueState, text: str) -> DialogueState:
        """Return a new state that adds what `text` says; the input is not modified."""
        return self.apply(state, self.read(state, text))

    def read(self, state: DialogueState, text: str) -> MessageReading:
        return read_message(self, state, text)

    def apply(self, state: DialogueState, msg: MessageReading) -> DialogueState:
        return apply_message(self, state, msg)
