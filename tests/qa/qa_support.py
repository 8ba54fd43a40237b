"""Small graphs, the packaged embedding model and a tiny LM for the answering-pipeline tests."""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from editors.lm import LanguageModel
from kg.records import Entity, Relation
from kg.store import FactStore, ImportBundle

RELATIONS = [
    Relation("P50", "author", "The author of {subject} is {object}.", "Who is the author of {subject}?", False, "P50"),
    Relation("P27", "country of citizenship", "{subject} is a citizen of {object}.",
             "What is the country of citizenship of {subject}?", False, "P27"),
    Relation("P36", "capital", "The capital of {subject} is {object}.", "What is the capital of {subject}?", True, "P36"),
    Relation("P19", "place of birth", "{subject} was born in {object}.", "Where was {subject} born?", True, "P19"),
    Relation("P38", "currency", "The currency of {subject} is {object}.", "What is the currency of {subject}?", True, "P38"),
    Relation("P35", "head of state", "The head of state of {subject} is {object}.",
             "Who is the head of state of {subject}?", True, "P35"),
]
ENTITIES = {
    "kafka": "Kafka on the Shore", "murakami": "Haruki Murakami", "japan": "Japan", "italy": "Italy",
    "tokyo": "Tokyo", "rome": "Rome", "kyoto": "Kyoto", "yen": "Japanese yen", "euro": "euro",
    "naruhito": "Naruhito", "mattarella": "Sergio Mattarella", "ulysses": "Ulysses", "joyce": "James Joyce",
    "ireland": "Ireland", "dublin": "Dublin",
}
FACTS = [
    ("kafka", "P50", "murakami"), ("murakami", "P27", "japan"), ("murakami", "P19", "kyoto"),
    ("japan", "P36", "tokyo"), ("italy", "P36", "rome"), ("japan", "P38", "yen"), ("italy", "P38", "euro"),
    ("japan", "P35", "naruhito"), ("italy", "P35", "mattarella"), ("ulysses", "P50", "joyce"),
    ("joyce", "P27", "ireland"), ("ireland", "P36", "dublin"),
]


def tiny_store() -> FactStore:
    store = FactStore.open("memory:")
    store.import_bundle(
        ImportBundle(
            entities=[Entity(i, label) for i, label in ENTITIES.items()],
            relations=RELATIONS,
            facts=FACTS,
        )
    )
    return store


_WORDS = ["the", "of", "is", "a", "an", "in", "who", "what", "where", "capital", "italy", "japan", "rome", "tokyo", "country", "citizen", "born"]


def tiny_lm(folder: Path) -> LanguageModel:
    """A randomly initialised GPT-2 with a word-level vocabulary: real generation, meaningless words."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for word in _WORDS:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="</s>"
    )
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(vocab), n_embd=16, n_layer=2, n_head=2, n_positions=512,
                        bos_token_id=1, eos_token_id=2)
    model = GPT2LMHeadModel(config).eval()
    return LanguageModel("tiny-gpt2", model, tokenizer, torch.device("cpu"))
