"""A tiny, random-init causal LM plus a locally trained tokenizer, for tests and offline demos.

Nothing is downloaded: the tokenizer is trained on the built-in corpus below and the model is
built from a config. Heavy imports live inside the functions so importing this module stays cheap.
Two tokenizers: byte-level BPE (`tokenizers`, the test fixtures' default) and SentencePiece (a
`tokenizer.model` that llama.cpp's GGUF converter reads; the BPE one's pre-tokenizer is unknown to it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

Arch = Literal["llama", "qwen2"]
TokenizerKind = Literal["bpe", "sentencepiece"]

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
SENTENCEPIECE_UNKNOWN = "<unk>"  # SentencePiece needs an unknown piece; byte fallback means it never appears
VOCAB_SIZE = 512
# Qwen2's pre-tokenizer split (digits one by one). transformers 5 always loads a qwen2 checkpoint's
# tokenizer as Qwen2Tokenizer, which rebuilds this exact pipeline around the saved vocab and merges;
# training with the same pipeline keeps the saved tokenizer.json and the reloaded one identical.
PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# ChatML; each assistant turn's content and its <|im_end|> sit inside {% generation %} so that
# return_assistant_tokens_mask=True (and TRL's assistant_only_loss) marks exactly those tokens.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- generation -%}{{- message['content'] + '<|im_end|>' -}}{%- endgeneration -%}"
    "{{- '\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello! How are you doing today? I am doing well, thank you.",
    "What is the capital of France? The capital of France is Paris.",
    "Please summarize the following text in one short sentence.",
    "Water boils at 100 degrees Celsius and freezes at 0 degrees.",
    "There are 7 days in a week, 12 months in a year, and 365 days in most years.",
    'She said: "Let\'s meet at 3:30 pm on Friday, June 14th."',
    "The answer is 42; the question, however, remains unknown.",
    "You are a helpful assistant. Answer the user's questions clearly and briefly.",
    "Can you translate 'good morning' into Spanish? Sure: 'buenos días'.",
    "To install the package, run pip install ftwizard and then start the wizard.",
    "The model was trained for 3 epochs with a learning rate of 0.0002 and a batch size of 8.",
    "Fine-tuning adapts a pre-trained model to a new task with a small dataset.",
    "Add 2 and 3 to get 5. Multiply 4 by 6 to get 24. Divide 100 by 4 to get 25.",
    "The weather today is sunny, with a high of 25 degrees and a light breeze.",
    "Write a short poem about the sea, the wind, and the stars at night.",
    "Once upon a time, there was a little robot who wanted to learn how to paint.",
    "Cats and dogs are the most popular pets in many countries around the world.",
    "The meeting has been moved from Monday to Wednesday at 10:00 am.",
    "Error: file not found (code 404). Please check the path and try again.",
    "Python is a programming language that is easy to read and fun to write.",
    "def add(a, b): return a + b  # a tiny function that adds two numbers",
    "The train leaves at 8:15 and arrives at 11:45, a journey of 3 and a half hours.",
    "Thank you for your help! You're welcome; let me know if you need anything else.",
    "The recipe needs 2 cups of flour, 1 cup of sugar, 3 eggs, and a pinch of salt.",
    "Why is the sky blue? Sunlight is scattered by the air, and blue light scatters most.",
    "A good question deserves a good answer, and a short answer is often the best one.",
    "The library opens at 9 and closes at 5, except on Sundays and public holidays.",
    "My phone number is 555-0123, and my email is someone@example.com.",
    "In 1969, humans walked on the Moon for the first time.",
    "Reading books every day helps you learn new words and new ideas.",
    "The user asked for a list: apples, bananas, oranges, grapes, and pears.",
    "Training loss should go down over time; if it does not, lower the learning rate.",
    "The system prompt tells the assistant how to behave during the conversation.",
    "It costs $19.99 plus tax, so the total comes to about $21.50.",
    "First, open the file. Second, read each line. Third, close the file when done.",
    "Mountains, rivers, forests, and deserts cover large parts of the earth.",
    "I think, therefore I am. Knowledge is power. Time is money.",
    "The GPU has 24 GB of memory, which is enough for a small model with LoRA.",
    "Good night, sleep well, and see you tomorrow morning!",
]


def train_tokenizer(vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on CORPUS and wrap it with ChatML special tokens and template."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",  # end of an assistant turn: generation stops there
        pad_token="<pad>",
        extra_special_tokens=["<|im_start|>"],
        chat_template=CHAT_TEMPLATE,
        model_max_length=512,
        padding_side="right",
    )


def train_sentencepiece_tokenizer(folder: Path, vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerBase:
    """Train a SentencePiece BPE model on CORPUS into `folder`/tokenizer.model and load it as a Llama tokenizer
    with the same special tokens, EOS and ChatML template as `train_tokenizer` (plus SentencePiece's <unk>).

    Byte fallback, digits split, no dummy prefix and no normalization, so text (newlines, runs of spaces)
    round-trips and the fast tokenizer transformers builds from the model tokenizes exactly like it.
    The special tokens are control pieces: llama.cpp marks them as such, so `<|im_end|>` ends a turn there.
    """
    import sentencepiece
    from transformers import LlamaTokenizer

    bos, im_start, eos, pad = SPECIAL_TOKENS
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "tokenizer.model").open("wb") as model_file:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(CORPUS),
            model_writer=model_file,
            model_type="bpe",
            vocab_size=vocab_size,
            character_coverage=1.0,
            byte_fallback=True,
            split_digits=True,
            add_dummy_prefix=False,
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True,
            unk_id=0,
            unk_piece=SENTENCEPIECE_UNKNOWN,
            bos_id=1,
            bos_piece=bos,
            eos_id=2,
            eos_piece=eos,
            pad_id=3,
            pad_piece=pad,
            control_symbols=[im_start],
            num_threads=1,  # one thread: the same model every time
            minloglevel=2,
        )
    return LlamaTokenizer.from_pretrained(
        folder,
        unk_token=SENTENCEPIECE_UNKNOWN,
        bos_token=bos,
        eos_token=eos,  # end of an assistant turn: generation stops there
        pad_token=pad,
        extra_special_tokens=[im_start],
        chat_template=CHAT_TEMPLATE,
        add_prefix_space=False,
        add_bos_token=False,  # ChatML starts with <|im_start|>, as the BPE tokenizer does
        model_max_length=512,
        padding_side="right",
    )


def build_tiny_model(folder: str | Path, arch: Arch = "llama", seed: int = 0, tokenizer: TokenizerKind = "bpe") -> Path:
    """Write a tiny random-init `arch` model (safetensors) and its tokenizer to `folder`; return it.

    Deterministic for a given seed: hidden 64, 2 layers, 4 heads / 2 KV heads (GQA), MLP 128;
    embeddings tied for qwen2 only. Well under a second once torch/transformers are imported.
    `tokenizer="sentencepiece"` (llama only) also leaves `tokenizer.model` there, for GGUF conversion.
    """
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if tokenizer == "sentencepiece" and arch != "llama":
        # transformers 5 loads a qwen2 checkpoint's tokenizer as the byte-level Qwen2Tokenizer.
        raise ValueError("the SentencePiece tokenizer is for the llama architecture only")
    trained = train_sentencepiece_tokenizer(folder) if tokenizer == "sentencepiece" else train_tokenizer()
    config_cls = {"llama": LlamaConfig, "qwen2": Qwen2Config}[arch]
    config = config_cls(
        vocab_size=len(trained),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        # Above the 0.02 default: with 0.02 the untrained lm_head's logits are so small that LoRA on
        # the linear layers alone cannot push the loss much below ln(vocab_size).
        initializer_range=0.1,
        tie_word_embeddings=arch == "qwen2",
        bos_token_id=trained.bos_token_id,
        eos_token_id=trained.eos_token_id,
        pad_token_id=trained.pad_token_id,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config.bos_token_id = trained.bos_token_id
    model.generation_config.eos_token_id = trained.eos_token_id
    model.generation_config.pad_token_id = trained.pad_token_id
    model.save_pretrained(folder)
    trained.save_pretrained(folder)
    return folder
