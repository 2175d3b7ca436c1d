"""Words of a generated answer as TAM's ``eval.py`` sees them: grouping, types, category labels.

Tokens are grouped into words from their lone decodes (README §3.2 A); a word's type comes from a
Penn Treebank tag (a pluggable *tagger*, word -> tag); a noun's label is the id of the last COCO
category one of whose space-separated names matches it after lemmatisation (a pluggable
*lemmatizer*). The reference uses NLTK's perceptron tagger and WordNet lemmatizer; offline, when
their data is not installed, :func:`default_tagger` and :func:`default_lemmatizer` fall back to the
small rules below.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable, Sequence

Tagger = Callable[[str], str]  # word -> Penn Treebank tag
Lemmatizer = Callable[[str], str]  # lower-cased word -> lemma

FUNCTION_TAGS = frozenset({"CC", "DT", "EX", "MD", "POS", "PRP", "PRP$", "UH", "WDT", "WP", "WP$", "WRB"})
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
NOT_IN_DICT, FUNCTION_LABEL, OTHER_LABEL = -1, -2, -3

# the closed word classes, so the fallback tagger gets function words right without a model
_CLOSED_CLASS = {
    "CC": "and or but nor yet so plus",
    "DT": "a an the this that these those some any each every no another all both either neither",
    "EX": "there",
    "MD": "can could may might must shall should will would",
    "PRP": "i you he she it we they me him her us them itself himself herself themselves",
    "PRP$": "my your his its our their",
    "WDT": "which whatever",
    "WP": "who whom what",
    "WP$": "whose",
    "WRB": "where when why how",
    "IN": "in on at of with by for from over under near into onto above below behind while as",
    "TO": "to",
    "VBZ": "is has does",
    "VBP": "are am have do",
    "VBD": "was were had did",
}
_LEXICON = {word: tag for tag, words in _CLOSED_CLASS.items() for word in words.split()}


def starts_word(token: str, decoded: str) -> bool:
    """Whether a token opens a new word (the first token is handled by the caller)."""
    return (
        decoded in string.punctuation  # a substring test, as the reference: "()" qualifies, ")." does not
        or any("CJK" in unicodedata.name(ch, "") for ch in decoded)
        or decoded[:1] == " "
        or token[:1] == "▁"
    )


def group_words(tokens: Sequence[str], decodes: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """The words (spaces removed) and each word's token indices, from tokens and their lone decodes."""
    words: list[str] = []
    groups: list[list[int]] = []
    for i, (token, decoded) in enumerate(zip(tokens, decodes, strict=True)):
        if i == 0 or starts_word(token, decoded):
            words.append(decoded.replace(" ", ""))
            groups.append([i])
        else:
            words[-1] += decoded.replace(" ", "")
            groups[-1].append(i)
    return words, groups


def word_type(tag: str) -> str:
    """``"noun"``, ``"function"`` or ``"others"`` for a Penn tag (IN, TO, CD are not function words)."""
    if tag in FUNCTION_TAGS:
        return "function"
    return "noun" if tag in NOUN_TAGS else "others"


def fallback_tag(word: str) -> str:
    """A model-free tag: closed-class words from a lexicon, numbers CD, other letters NN, rest SYM."""
    lower = word.lower()
    if lower in _LEXICON:
        return _LEXICON[lower]
    if lower.replace(".", "").isdigit():
        return "CD"
    return "NN" if any(ch.isalpha() for ch in lower) else "SYM"


def default_tagger() -> Tagger:
    """NLTK's perceptron tagger on the lone word (the reference's choice) if its data is installed,
    else :func:`fallback_tag`."""
    try:
        import nltk  # type: ignore[import-untyped]

        nltk.data.find("taggers/averaged_perceptron_tagger_eng")
    except (ImportError, LookupError):
        return fallback_tag
    return lambda word: str(nltk.pos_tag([word])[0][1])


def rule_lemma(word: str) -> str:
    """Drop a plural ``s`` from words over 3 letters not ending in ``ss`` (cats -> cat, bus -> bus)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def default_lemmatizer() -> Lemmatizer:
    """NLTK's WordNet lemmatizer if WordNet is installed (the reference's), else :func:`rule_lemma`."""
    try:
        from nltk.corpus import wordnet  # type: ignore[import-untyped]
        from nltk.stem import WordNetLemmatizer  # type: ignore[import-untyped]

        wordnet.ensure_loaded()
    except (ImportError, LookupError):
        return rule_lemma
    lemmatizer = WordNetLemmatizer()
    return lambda word: str(lemmatizer.lemmatize(word))


def word_label(word: str, kind: str, category: Sequence[tuple[str, int]], lemma: Lemmatizer) -> int:
    """A noun's category id (the **last** match wins; -1 when none), -2 function, -3 other."""
    if kind == "function":
        return FUNCTION_LABEL
    if kind != "noun":
        return OTHER_LABEL
    key = lemma(word.lower().replace("-", ""))
    label = NOT_IN_DICT
    for name, cat_id in category:
        if any(lemma(part.lower().replace("-", "")) == key for part in name.split(" ")):
            label = int(cat_id)
    return label
