"""The Llama 3.1 chat format as a Jinja chat template, for the exported tokenizer.

``herd.lib.llama`` writes ``CHAT_TEMPLATE`` into ``tokenizer_config.json`` so that
``transformers.AutoTokenizer.from_pretrained(dir).apply_chat_template(messages,
tokenize=True, add_generation_prompt=...)`` gives exactly the ids of
``ChatFormat.encode_dialog`` / ``encode_prompt`` (tests/lib/chat/test_chat_template.py
checks this token for token). It renders what ``herd.lib.chat.format`` renders, rule for
rule: messages are Hugging Face / OpenAI dicts (``openai_wire.to_hf``), a tool call is
``{"type": "function", "function": {"name": ..., "arguments": {...}}}`` with arguments as a
mapping, and a ``tool`` message is rendered ``ipython``.

Two cases where the ids can differ, both from tokenizing the rendered string rather than
each piece:

* content holding special-token strings (``"<|eot_id|>"``) becomes those special tokens
  unless ``apply_chat_template(..., sanitize_control_tokens=True)`` is passed; herd always
  keeps such content as text;
* content that starts with whitespace holding a newline (``"\\nfoo"``) can merge with the
  header's ``\\n\\n`` into one pre-token; herd tokenizes the header's ``\\n\\n`` on its own,
  as Meta's reference ``ChatFormat.encode_header`` does.
"""

from __future__ import annotations

CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{%- set role = 'ipython' if message.role == 'tool' else message.role %}"
    "{%- if role not in ['system', 'user', 'assistant', 'ipython'] %}"
    "{{- raise_exception('the Llama 3.1 chat format has no role ' + message.role) }}"
    "{%- endif %}"
    "{{- '<|start_header_id|>' + role + '<|end_header_id|>\\n\\n' }}"
    "{%- set content = message.content if message.content is string else '' %}"
    "{%- if message.tool_calls %}"
    "{%- if message.tool_calls | length > 1 %}"
    "{{- raise_exception('Llama 3.1 makes one tool call per message') }}"
    "{%- endif %}"
    "{%- set call = message.tool_calls[0].function if message.tool_calls[0].function is defined"
    " else message.tool_calls[0] %}"
    "{{- content }}"
    "{%- if call.name == 'code_interpreter' %}"
    "{{- '<|python_tag|>' + call.arguments.code + '<|eom_id|>' }}"
    "{%- elif call.name in ['brave_search', 'wolfram_alpha'] %}"
    "{{- '<|python_tag|>' + call.name + '.call(' }}"
    "{%- for key, value in call.arguments | items %}"
    "{{- key + '=\"' + value + '\"' }}{%- if not loop.last %}{{- ', ' }}{%- endif %}"
    "{%- endfor %}"
    "{{- ')<|eom_id|>' }}"
    "{%- else %}"
    "{{- {'name': call.name, 'parameters': call.arguments} | tojson + '<|eot_id|>' }}"
    "{%- endif %}"
    "{%- elif role == 'assistant' and not loop.last and loop.nextitem.role in ['ipython', 'tool'] %}"
    "{{- '<|python_tag|>' + content + '<|eom_id|>' }}"
    "{%- else %}"
    "{{- content + '<|eot_id|>' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}"
)
