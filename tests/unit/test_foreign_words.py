"""The multilingual reading's warm-up (chat/understand/foreign.py): a server embeds
the catalog's values and each language's common words before it says ready, so a
message in another language pays only for its own words."""

from __future__ import annotations

from chat.understand.foreign import ForeignWords
from chat.understand.language import LATIN_LANGUAGES


def counting(words: ForeignWords) -> list[int]:
    sizes: list[int] = []
    embed = words._embed

    def counted(texts: list[str]):
        sizes.append(len(texts))
        return embed(texts)

    words._embed = counted  # type: ignore[method-assign]
    return sizes


def test_after_the_warm_up_a_message_embeds_only_its_own_words():
    words = ForeignWords(["backpack", "kettle", "black"], ["without"], embedder="hash")
    words.warm_up()
    sizes = counting(words)
    words.english(["mochila", "barata"], "es")
    words.english(["Wasserkocher"], "de")
    assert sizes == [2, 1]


def test_cold_the_first_message_of_a_language_pays_for_the_catalog_and_the_language():
    words = ForeignWords(["backpack", "kettle", "black"], ["without"], embedder="hash")
    sizes = counting(words)
    words.english(["mochila"], "es")
    assert len(sizes) == 3 and sizes[1] == 1  # the catalog's values, the word, common words


def test_the_warm_up_covers_every_language_the_reader_tells_apart():
    words = ForeignWords(["backpack"], embedder="hash")
    words.warm_up()
    assert set(words._hubness) == set(LATIN_LANGUAGES)


def test_a_catalog_with_no_values_to_map_warms_nothing():
    words = ForeignWords(["42"], embedder="hash")
    sizes = counting(words)
    words.warm_up()
    assert sizes == []
