using Camelid.Tokenization.ChatTemplates;
// Inside namespace Camelid.Tokenization.*, the bare name ChatTemplates binds to the namespace, not the class.
using TemplateRegistry = Camelid.Tokenization.ChatTemplates.ChatTemplates;

namespace Camelid.Tokenization.Tests;

/// <summary>Detect on chat_template Jinja sources shaped like the ones models ship, and on model names.</summary>
public class ChatTemplateDetectTests
{
    // TinyLlama-1.1B-Chat-v1.0 / zephyr-7b-beta tokenizer_config.json (the alignment-handbook default template).
    const string TinyLlamaJinja =
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n" +
        "{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n" +
        "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n" +
        "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    // meta-llama/Llama-2-7b-chat-hf tokenizer_config.json.
    const string Llama2ChatJinja =
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}" +
        "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}" +
        "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
        "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}" +
        "{% else %}{% set content = message['content'] %}{% endif %}" +
        "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}" +
        "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    // meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json.
    const string Llama3InstructJinja =
        "{% set loop_messages = messages %}{% for message in loop_messages %}" +
        "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}" +
        "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    // teknium/OpenHermes-2.5-Mistral-7B tokenizer_config.json.
    const string ChatMlJinja =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    // A Vicuna v1.1 template as community GGUFs carry it.
    const string VicunaJinja =
        "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] + ' ' %}{% set loop_messages = messages[1:] %}" +
        "{% else %}{% set system_message = '' %}{% set loop_messages = messages %}{% endif %}{{ system_message }}" +
        "{% for message in loop_messages %}{% if message['role'] == 'user' %}{{ 'USER: ' + message['content'] + ' ' }}" +
        "{% elif message['role'] == 'assistant' %}{{ 'ASSISTANT: ' + message['content'] + eos_token }}{% endif %}{% endfor %}" +
        "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

    const string KoalaJinja =
        "{{ 'BEGINNING OF CONVERSATION: ' }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'USER: ' + message['content'] + ' ' }}" +
        "{% else %}{{ 'GPT: ' + message['content'] + eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'GPT:' }}{% endif %}";

    const string AlpacaJinja =
        "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}" +
        "{% else %}{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}{% endif %}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}";

    // mistralai/Mistral-7B-Instruct-v0.1: [INST] without <<SYS>>.
    const string MistralJinja =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
        "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}";

    // microsoft/Phi-3-mini-4k-instruct: same role tags as zephyr, but turns end with <|end|>.
    const string Phi3Jinja =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}" +
        "{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}";

    [Theory]
    [InlineData(TinyLlamaJinja, "zephyr", "chat_template contains \"<|user|>\" and \"<|assistant|>\": zephyr")]
    [InlineData(Llama2ChatJinja, "llama-2", "chat_template contains \"[INST]\" and \"<<SYS>>\": llama-2")]
    [InlineData(Llama3InstructJinja, "llama-3", "chat_template contains \"<|start_header_id|>\" and \"<|end_header_id|>\": llama-3")]
    [InlineData(ChatMlJinja, "chatml", "chat_template contains \"<|im_start|>\": chatml")]
    [InlineData(VicunaJinja, "vicuna", "chat_template contains \"USER:\" and \"ASSISTANT:\": vicuna")]
    [InlineData(KoalaJinja, "koala", "chat_template contains \"USER:\" and \"GPT:\": koala")]
    [InlineData(AlpacaJinja, "alpaca", "chat_template contains \"### Instruction\" and \"### Response\": alpaca")]
    public void Detects_family_from_jinja(string jinja, string expected, string reason)
    {
        // A misleading name must not override the model's own template.
        var choice = TemplateRegistry.Detect(jinja, "some-other-model");
        Assert.Equal(expected, choice.Template.Name);
        Assert.Equal(reason, choice.Reason);
        Assert.False(choice.IsFallback);
    }

    [Fact]
    public void Jinja_wins_over_the_name()
    {
        Assert.Equal("chatml", TemplateRegistry.Detect(ChatMlJinja, "vicuna-7b").Template.Name);
    }

    [Fact]
    public void Mistral_style_inst_maps_to_llama2_and_says_so()
    {
        var choice = TemplateRegistry.Detect(MistralJinja, null);
        Assert.Equal("llama-2", choice.Template.Name);
        Assert.False(choice.IsFallback);
        Assert.Contains("Mistral", choice.Reason);
    }

    [Fact]
    public void Phi3_is_not_mistaken_for_zephyr()
    {
        var choice = TemplateRegistry.Detect(Phi3Jinja, "Phi-3-mini-4k-instruct");
        Assert.True(choice.IsFallback);
        Assert.Equal("vicuna", choice.Template.Name);
        Assert.StartsWith("warning: chat_template not recognised", choice.Reason);
    }

    [Theory]
    [InlineData("vicuna-7b", "vicuna")]
    [InlineData("vicuna-13b-v1.5", "vicuna")]
    [InlineData("koala-13B-HF", "koala")]
    [InlineData("alpaca-native", "alpaca")]
    [InlineData("TinyLlama-1.1B-Chat-v1.0", "zephyr")]
    [InlineData("tinyllama_chat", "zephyr")]
    [InlineData("zephyr-7b-beta", "zephyr")]
    [InlineData("Meta-Llama-3-8B-Instruct", "llama-3")]
    [InlineData("Llama 3.2 1B Instruct", "llama-3")]
    [InlineData("llama-2-7b-chat.Q4_K_M", "llama-2")]
    [InlineData("Llama2 13B Chat", "llama-2")]
    [InlineData("OpenHermes-2.5-Mistral-7B", "chatml")]
    public void Detects_family_from_model_name(string modelName, string expected)
    {
        var choice = TemplateRegistry.Detect(null, modelName);
        Assert.Equal(expected, choice.Template.Name);
        Assert.False(choice.IsFallback);
        Assert.StartsWith($"model name '{modelName}' contains ", choice.Reason);
        Assert.EndsWith($": {expected} (no chat_template in the model)", choice.Reason);
    }

    [Fact]
    public void Unrecognised_jinja_falls_through_to_the_name()
    {
        var choice = TemplateRegistry.Detect("{% for m in messages %}{{ m['content'] }}{% endfor %}", "koala-7b");
        Assert.Equal("koala", choice.Template.Name);
        Assert.False(choice.IsFallback);
        Assert.Contains("chat_template not recognised", choice.Reason);
    }

    [Theory]
    [InlineData(null, null, "warning: no chat_template in the model and no model name; falling back to vicuna.")]
    [InlineData("", "stories15M", "warning: no chat_template in the model and the model name 'stories15M' matches no known template; falling back to vicuna.")]
    [InlineData("  ", "TinyLlama-1.1B", "warning: no chat_template in the model and the model name 'TinyLlama-1.1B' matches no known template; falling back to vicuna.")]
    public void Falls_back_to_vicuna_with_a_warning(string? jinja, string? name, string reasonStart)
    {
        var choice = TemplateRegistry.Detect(jinja, name);
        Assert.True(choice.IsFallback);
        Assert.Same(TemplateRegistry.Get("vicuna"), choice.Template);
        Assert.StartsWith(reasonStart, choice.Reason);
        Assert.Contains("alpaca, vicuna, koala, llama-2, llama-3, chatml, zephyr", choice.Reason);
    }
}
