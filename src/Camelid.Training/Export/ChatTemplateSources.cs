// Jinja sources of the built-in chat templates, to record in an exported model the prompt format it was fine-tuned
// on (GGUF tokenizer.chat_template, tokenizer_config.json chat_template). Each renders, for HF's
// apply_chat_template(messages, add_generation_prompt=True) and llama.cpp's Jinja path, the text of
// ChatTemplate.Render, preceded by bos_token where the C# template leaves BOS to the caller (the Hugging Face
// convention: apply_chat_template tokenizes without adding special tokens); without add_generation_prompt a
// conversation ending in an assistant reply renders as RenderForTraining's text. Checked with Jinja2 3.1 on
// conversations with and without a system message, empty messages and several rounds. Each source holds the
// markers by which ChatTemplates.Detect recognises its template, so Camelid picks the same format when it loads
// the exported model.
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Training.Export;

public static class ChatTemplateSources
{
    /// <summary>The Jinja source of the built-in template <paramref name="name"/> (any name or alias <see cref="ChatTemplates.Get"/> accepts).</summary>
    public static string For(string name) => ChatTemplates.Get(name).Name switch
    {
        "vicuna" => ColonTwo(
            "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
            "USER", "ASSISTANT", " "),
        "koala" => ColonTwo("BEGINNING OF CONVERSATION:", "USER", "GPT", " "),
        "alpaca" => ColonTwo(
            "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
            "### Instruction", "### Response", "\\n\\n"),
        "llama-2" =>
            "{{ bos_token }}" + SplitSystem("''") +
            "{% for message in loop_messages %}{% if message['role'] == 'user' %}" +
            "{% if loop.first and system != '' %}{{ '[INST] <<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' }}" +
            "{% elif loop.first %}{{ '[INST] ' }}{% else %}{{ '<s>[INST] ' }}{% endif %}" +
            "{{ message['content'] + ' [/INST]' }}" +
            "{% else %}{{ ' ' + message['content'] + ' </s>' }}{% endif %}{% endfor %}",
        "llama-3" =>
            "{{ '<|begin_of_text|>' }}" + SplitSystem("''") +
            "{% set system = system | trim %}" +
            "{% if system != '' %}{{ '<|start_header_id|>system<|end_header_id|>\\n\\n' + system + '<|eot_id|>' }}{% endif %}" +
            "{% for message in loop_messages %}" +
            "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim) + '<|eot_id|>' }}" +
            "{% endfor %}" +
            "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
        "chatml" =>
            "{{ bos_token }}{% for message in messages %}" +
            "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
            "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        // An empty system block even without a system message, as FastChat (and the alignment-handbook recipe) trained these models.
        "zephyr" =>
            "{{ bos_token }}" + SplitSystem("''") +
            "{{ '<|system|>\\n' + system + '</s>\\n' }}" +
            "{% for message in loop_messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '</s>\\n' }}" +
            "{% else %}{{ '<|assistant|>\\n' + message['content'] + '</s>\\n' }}{% endif %}{% endfor %}" +
            "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
        var other => throw new ArgumentException($"no Jinja source for the chat template '{other}'"),
    };

    /// <summary>FastChat's ADD_COLON_TWO: system + sep, "USER: u" + sep, "ASSISTANT: a&lt;/s&gt;", the open "ASSISTANT:".</summary>
    static string ColonTwo(string defaultSystem, string user, string assistant, string separator) =>
        "{{ bos_token }}" + SplitSystem(Quoted(defaultSystem)) +
        $"{{{{ system + '{separator}' }}}}" +
        "{% for message in loop_messages %}{% if message['role'] == 'user' %}" +
        $"{{{{ '{user}: ' + message['content'] + '{separator}' }}}}" +
        $"{{% else %}}{{{{ '{assistant}: ' + message['content'] + '</s>' }}}}{{% endif %}}{{% endfor %}}" +
        $"{{% if add_generation_prompt %}}{{{{ '{assistant}:' }}}}{{% endif %}}";

    /// <summary>Sets <c>system</c> (the first message's content if it is a system message, else the default) and <c>loop_messages</c>.</summary>
    static string SplitSystem(string defaultSystemExpression) =>
        "{% if messages and messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set loop_messages = messages[1:] %}" +
        $"{{% else %}}{{% set system = {defaultSystemExpression} %}}{{% set loop_messages = messages %}}{{% endif %}}";

    static string Quoted(string text) => "'" + text.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}
