#!/usr/bin/env python3
"""A tokenizer folder as current transformers saves it, for the `run --chat` / `chat-template` tests.

A tiny byte-level BPE (256 byte tokens + 3 special tokens + merges, 300 ids: the vocabulary of
Tests/Fixtures/llama/gqa_tied_f32) is trained with `tokenizers`, wrapped in
PreTrainedTokenizerFast with a ChatML template (SmolLM2's form, with a default system turn), and
written by `save_pretrained`, which puts the template in chat_template.jinja beside
tokenizer_config.json. The expected prompts and ids come from transformers'
`apply_chat_template` on the saved folder, loaded back with AutoTokenizer.
Run: python Tests/Fixtures/generate.py chat_folder   (needs transformers, tokenizers)
"""
import json
import pathlib
import shutil

OUT = pathlib.Path(__file__).resolve().parent / "chat_folder"
TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a tiny test model.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CORPUS = ["What is the capital of France? Paris is the capital of France.",
          "The quick brown fox jumps over the lazy dog.", "hello world, hello chat templates"] * 20
CONVERSATIONS = {
    "question": [{"role": "user", "content": "What is the capital of France?"}],
    "turns": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"},
              {"role": "assistant", "content": " world "}, {"role": "user", "content": "Ünïcode?"}],
}


def main() -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = TEMPLATE
    if OUT.exists():
        shutil.rmtree(OUT)
    fast.save_pretrained(OUT)
    assert (OUT / "chat_template.jinja").exists(), "this transformers did not write chat_template.jinja"
    assert "chat_template" not in json.loads((OUT / "tokenizer_config.json").read_text())
    loaded = AutoTokenizer.from_pretrained(OUT)
    expected = {}
    for name, messages in CONVERSATIONS.items():
        for generation in (False, True):
            prompt = loaded.apply_chat_template(messages, add_generation_prompt=generation, tokenize=False)
            ids = loaded.apply_chat_template(messages, add_generation_prompt=generation, tokenize=True, return_dict=False)
            if isinstance(ids, dict):
                ids = ids["input_ids"]
            expected[f"{name}{'+gen' if generation else ''}"] = {
                "messages": messages, "add_generation_prompt": generation, "prompt": prompt, "ids": list(ids)}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {sorted(p.name for p in OUT.iterdir())}, vocabulary {len(loaded)}")


if __name__ == "__main__":
    main()
