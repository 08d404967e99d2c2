"""Every round's saved policy is a Hugging Face directory whose tokenizer carries the chat
template: transformers renders a conversation with exactly the ids post-training used."""

from __future__ import annotations

from herd.core.records import ChatMessage, ToolCall
from herd.lib.chat.format import ChatFormat
from herd.lib.chat.openai_wire import to_wire
from herd.lib.posttraining.models import load_policy, load_tokenizer, save_policy


def test_saved_policy_tokenizer_applies_the_training_chat_format(model_dir, tmp_path):
    from transformers import AutoTokenizer

    out = save_policy(load_policy(model_dir), model_dir, tmp_path / "round_1")
    hf = AutoTokenizer.from_pretrained(str(out))
    chat = ChatFormat.from_tokenizer(load_tokenizer(out))
    dialog = [ChatMessage("user", "What is 2 plus 3?"),
              ChatMessage("assistant", "", tool_calls=[ToolCall("code_interpreter", {"code": "print(2 + 3)"})]),
              ChatMessage("ipython", "5")]
    ids = hf.apply_chat_template(to_wire(dialog, json_arguments=False), tokenize=True, return_dict=False,
                                 add_generation_prompt=True)
    assert ids == chat.encode_prompt(dialog).ids
