using System.Text.Json;
using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Camelid.WebUi.Tests;

/// <summary>The chat page against the real `camelid serve`, driven in headless Chromium as a person would use it.</summary>
[Collection(WebUiCollection.Name)]
public sealed class ChatTests(WebUiFixture fixture) : WebUiTest(fixture)
{
    [ChromiumFact]
    public async Task SendingAMessage_StreamsTheAnswerIntoThePage()
    {
        var chat = await OpenAsync();
        await chat.WaitForModelsAsync();
        await chat.SetSettingsAsync(temperature: "0", topP: "0.9", maxTokens: "24", systemPrompt: "You tell short stories.");
        // Record every length the answer shows while it arrives, to see it grow token by token.
        await chat.Page.EvaluateAsync("""
            () => {
              window.answerLengths = [];
              new MutationObserver(() => {
                const answers = document.querySelectorAll('.message.assistant .message-body');
                const length = answers.length ? answers[answers.length - 1].textContent.length : 0;
                if (length !== window.answerLengths.at(-1)) window.answerLengths.push(length);
              }).observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true });
            }
            """);

        var request = await chat.SendAndCaptureRequestAsync("Tell me a story");

        var body = request.PostDataJSON()!.Value;
        Assert.Equal(await chat.Model.InputValueAsync(), body.GetProperty("model").GetString());
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(0, body.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, body.GetProperty("top_p").GetDouble());
        Assert.Equal(24, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(
            [("system", "You tell short stories."), ("user", "Tell me a story")],
            body.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString(), m.GetProperty("content").GetString())));
        var response = await request.ResponseAsync();
        Assert.Equal(200, response!.Status);
        Assert.StartsWith("text/event-stream", response.Headers["content-type"]);

        await Expect(chat.UserMessages).ToHaveTextAsync(["Tell me a story"]);
        await chat.WaitUntilReadyAsync();
        await Expect(chat.Answers).ToHaveCountAsync(1);
        await Expect(chat.LastAnswer).ToHaveTextAsync(ChatPage.AnyText);
        // 24 tokens at temperature 0: the random-weight model runs to max tokens, and the usage chunk says so.
        await Expect(chat.LastAnswerStats).ToHaveTextAsync(new Regex(@"^\d+(\.\d)? tok/s · 24 tokens · hit max tokens$"));

        // (Lengths can dip by a character or two when closing Markdown markers arrive and turn into formatting.)
        var lengths = await chat.Page.EvaluateAsync<int[]>("() => window.answerLengths");
        Assert.True(lengths.Distinct().Count(l => l > 0) >= 3, $"the answer should appear in several steps while it streams; it showed lengths {string.Join(", ", lengths)}");
    }

    [ChromiumFact]
    public async Task Stop_EndsALongAnswer_AndThePageIsReadyAgain()
    {
        var chat = await OpenAsync();
        await chat.WaitForModelsAsync();
        // No max tokens: the answer may run to the end of the 2048-token context, half a minute or more.
        await chat.SetSettingsAsync(temperature: "1", maxTokens: "");

        var request = await chat.SendAndCaptureRequestAsync("Tell me a very long story");
        Assert.False(request.PostDataJSON()!.Value.TryGetProperty("max_tokens", out _));
        await Expect(chat.Stop).ToBeVisibleAsync();
        await Expect(chat.LastAnswer).ToHaveTextAsync(ChatPage.AnyText);
        int shown = (await chat.LastAnswer.TextContentAsync())!.Length;
        await chat.Page.WaitForFunctionAsync(
            "shown => { const a = document.querySelectorAll('.message.assistant .message-body'); return a[a.length - 1].textContent.length > shown; }", shown);

        await chat.Stop.ClickAsync();

        await chat.WaitUntilReadyAsync();
        await Expect(chat.LastAnswerStats).ToContainTextAsync("stopped");
        string stoppedAnswer = (await chat.LastAnswer.TextContentAsync())!;
        Assert.NotEqual("", stoppedAnswer.Trim());

        // The server must still answer after a client went away mid-stream; while it does, the stopped
        // answer has time to grow if the page were still reading it.
        await chat.SetSettingsAsync(maxTokens: "12");
        await chat.AskAsync("And now a short one");
        await Expect(chat.Answers).ToHaveCountAsync(2);
        Assert.Equal(stoppedAnswer, await chat.Answers.First.TextContentAsync());
        Assert.Contains("\"stopped\"", await chat.LocalStorageAsync("camelid.conversations"));
    }

    [ChromiumFact]
    public async Task ServerErrors_AreShownToTheUser_AndTheTurnCanBeRetried()
    {
        var chat = await OpenAsync();
        await chat.WaitForModelsAsync();
        // More tokens than the 2048-token context holds: the server refuses with an OpenAI error.
        await chat.SetSettingsAsync(maxTokens: "5000");

        await chat.SendAsync("Too much to ask");

        await Expect(chat.Error).ToBeVisibleAsync();
        await Expect(chat.Error).ToContainTextAsync("2048");
        await Expect(chat.Error).ToContainTextAsync("context_length_exceeded");
        await Expect(chat.UserMessages).ToHaveTextAsync(["Too much to ask"]);
        await Expect(chat.Answers).ToHaveCountAsync(0);
        await chat.WaitUntilReadyAsync();

        await chat.SetSettingsAsync(maxTokens: "8");
        await chat.Regenerate.ClickAsync();
        await chat.WaitUntilReadyAsync();
        await Expect(chat.Error).ToBeHiddenAsync();
        await Expect(chat.UserMessages).ToHaveCountAsync(1);
        await Expect(chat.LastAnswer).ToHaveTextAsync(ChatPage.AnyText);
    }

    [ChromiumFact]
    public async Task Conversations_AreListed_AndCanBeSwitchedAndDeleted()
    {
        var chat = await OpenAsync();
        await chat.WaitForModelsAsync();
        await chat.SetSettingsAsync(maxTokens: "8");

        string catsAnswer = await chat.AskAsync("Tell me about cats");
        await chat.NewChat.ClickAsync();
        await Expect(chat.UserMessages).ToHaveCountAsync(0);
        string dogsAnswer = await chat.AskAsync("What about dogs?");

        await Expect(chat.Conversations).ToHaveCountAsync(2);
        // Titles come from the first user message; the latest conversation is listed first.
        await Expect(chat.Conversations).ToHaveTextAsync([new Regex("What about dogs\\?"), new Regex("Tell me about cats")]);

        await chat.Conversation("Tell me about cats").Locator(".conversation-open").ClickAsync();
        await Expect(chat.UserMessages).ToHaveTextAsync(["Tell me about cats"]);
        await Expect(chat.Answers).ToHaveTextAsync([catsAnswer]);
        await Expect(chat.Page.Locator("#conversation-title")).ToHaveTextAsync("Tell me about cats");

        await chat.Conversation("What about dogs?").Locator(".conversation-open").ClickAsync();
        await Expect(chat.UserMessages).ToHaveTextAsync(["What about dogs?"]);
        await Expect(chat.Answers).ToHaveTextAsync([dogsAnswer]);

        await chat.Conversation("What about dogs?").Locator(".delete-conversation").ClickAsync();
        await Expect(chat.Conversations).ToHaveTextAsync([new Regex("Tell me about cats")]);
        await Expect(chat.UserMessages).ToHaveCountAsync(0);
    }

    [ChromiumFact]
    public async Task History_AndSettings_SurviveAReload()
    {
        var chat = await OpenAsync();
        await chat.WaitForModelsAsync();
        await chat.SetSettingsAsync(temperature: "0.5", maxTokens: "10", systemPrompt: "Answer briefly.");
        string answer = await chat.AskAsync("Remember this question");
        string stats = (await chat.LastAnswerStats.TextContentAsync())!;

        await chat.Page.ReloadAsync();

        await Expect(chat.Conversations).ToHaveTextAsync([new Regex("Remember this question")]);
        await Expect(chat.UserMessages).ToHaveTextAsync(["Remember this question"]);
        await Expect(chat.Answers).ToHaveTextAsync([answer]);
        await Expect(chat.LastAnswerStats).ToHaveTextAsync(stats);
        await Expect(chat.Page.Locator("#system-prompt")).ToHaveValueAsync("Answer briefly.");
        await Expect(chat.Page.Locator("#temperature")).ToHaveValueAsync("0.5");
        await Expect(chat.Page.Locator("#max-tokens")).ToHaveValueAsync("10");

        // The conversation goes on from the stored history: the next request carries the earlier turns.
        await chat.WaitForModelsAsync();
        var request = await chat.SendAndCaptureRequestAsync("And a follow-up");
        var roles = request.PostDataJSON()!.Value.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString());
        Assert.Equal(["system", "user", "assistant", "user"], roles);
        await chat.WaitUntilReadyAsync();
    }

    [ChromiumFact]
    public async Task Regenerate_RerunsTheLastTurn_ReplacingTheAnswer()
    {
        var chat = await OpenAsync();
        await chat.WaitForModelsAsync();
        await chat.SetSettingsAsync(temperature: "0", maxTokens: "16");
        string first = await chat.AskAsync("Say something");

        var request = await chat.Page.RunAndWaitForRequestAsync(() => chat.Regenerate.ClickAsync(), ChatPage.IsChatCompletion);
        var messages = request.PostDataJSON()!.Value.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(("user", "Say something"), (messages[^1].GetProperty("role").GetString(), messages[^1].GetProperty("content").GetString()));
        Assert.DoesNotContain(messages, m => m.GetProperty("role").GetString() == "assistant");

        await chat.WaitUntilReadyAsync();
        await Expect(chat.UserMessages).ToHaveCountAsync(1);
        await Expect(chat.Answers).ToHaveCountAsync(1);
        // Greedy decoding of the same turn gives the same answer again.
        await Expect(chat.LastAnswer).ToHaveTextAsync(first);
    }

    [ChromiumFact]
    public async Task PhoneWidth_KeepsTheSidebarBehindAButton()
    {
        var chat = await OpenAsync(Phone);
        var sidebar = chat.Page.Locator("#sidebar");
        var toggle = chat.Page.Locator("#sidebar-toggle");
        await chat.WaitForModelsAsync();
        await chat.SetSettingsAsync(maxTokens: "40");
        await chat.Page.Locator("#settings-toggle").ClickAsync();
        await Expect(sidebar).ToBeHiddenAsync();
        await Expect(toggle).ToBeVisibleAsync();

        await chat.AskAsync("Hello from a phone");

        Assert.True(await chat.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the page must not scroll sideways at phone width");
        foreach (var control in new[] { chat.Prompt, chat.Send, chat.Model, toggle })
            await Expect(control).ToBeInViewportAsync(new() { Ratio = 1 });
        var answerBox = (await chat.LastAnswer.BoundingBoxAsync())!;
        Assert.True(answerBox.X >= 0 && answerBox.X + answerBox.Width <= Phone.Width, $"the answer spans x {answerBox.X}..{answerBox.X + answerBox.Width}");
        await SaveScreenshotAsync(chat.Page, "webui-phone.png");

        await toggle.ClickAsync();
        await Expect(sidebar).ToBeInViewportAsync(new() { Ratio = 1 });
        await Expect(chat.Conversations).ToHaveTextAsync([new Regex("Hello from a phone")]);
        await SaveScreenshotAsync(chat.Page, "webui-phone-sidebar.png");
        await chat.NewChat.ClickAsync();
        await Expect(sidebar).ToBeHiddenAsync();
        await Expect(chat.UserMessages).ToHaveCountAsync(0);
    }

    [ChromiumFact]
    public async Task ScreenshotOfAChat_IsKeptAsATestArtifact()
    {
        var chat = await OpenAsync(Laptop);
        await chat.WaitForModelsAsync();
        await chat.SetSettingsAsync(maxTokens: "60");
        await chat.Page.Locator("#settings-toggle").ClickAsync();
        await chat.AskAsync("Write a haiku about llamas");
        await chat.AskAsync("Now one about camels");

        string path = await SaveScreenshotAsync(chat.Page, "webui-chat.png");

        byte[] png = await File.ReadAllBytesAsync(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        int width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        int height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        Assert.Equal((Laptop.Width, Laptop.Height), (width, height));
        Assert.True(File.Exists(Path.Combine(SharedShotsDirectory, "webui-chat.png")));
    }

    [ChromiumFact]
    public async Task MarkdownAnswers_RenderSafely_AndCopyButtonsCopy()
    {
        var chat = await OpenAsync();
        await chat.Page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        const string answer = """
            ## Plan
            1. First **bold** step
            2. Then `inline <b>code</b>`

            ```python
            print("<script>window.injected = true</script>")
            ```

            See [the docs](https://example.com/docs) but not [this](javascript:window.injected=true).
            <img src=x onerror="window.injected=true">
            """;
        const string halfWritten = "Here it comes:\n\n```js\nlet unfinished = ";
        var stored = new[]
        {
            new
            {
                id = "seeded", title = "Markdown", createdAt = 1, updatedAt = 1,
                messages = new[]
                {
                    new { role = "user", content = "Show me Markdown" },
                    new { role = "assistant", content = answer },
                    new { role = "user", content = "And a half-written answer" },
                    new { role = "assistant", content = halfWritten },
                },
            },
        };
        await chat.Page.EvaluateAsync("value => { localStorage.setItem('camelid.conversations', value); localStorage.setItem('camelid.activeConversation', 'seeded'); }",
            JsonSerializer.Serialize(stored));
        await chat.Page.ReloadAsync();

        var first = chat.Answers.First;
        await Expect(first.Locator("h2")).ToHaveTextAsync("Plan");
        await Expect(first.Locator("ol > li")).ToHaveCountAsync(2);
        await Expect(first.Locator("strong")).ToHaveTextAsync("bold");
        await Expect(first.Locator("li code")).ToHaveTextAsync("inline <b>code</b>");
        await Expect(first.Locator(".code-block .code-language")).ToHaveTextAsync("python");
        await Expect(first.Locator(".code-block code")).ToHaveTextAsync("print(\"<script>window.injected = true</script>\")");
        await Expect(first.Locator("a[href='https://example.com/docs']")).ToHaveTextAsync("the docs");
        await Expect(first.Locator("a")).ToHaveCountAsync(1);
        await Expect(first.Locator("img, script")).ToHaveCountAsync(0);
        await Expect(first).ToContainTextAsync("<img src=x onerror=\"window.injected=true\">");
        Assert.True(await chat.Page.EvaluateAsync<bool>("() => window.injected === undefined"));

        // An answer cut off inside a fence shows as a code block in progress.
        var last = chat.Answers.Last;
        await Expect(last.Locator(".code-block.in-progress code")).ToHaveTextAsync("let unfinished =");
        await Expect(last.Locator(".code-block .code-language")).ToHaveTextAsync("js");

        await first.Locator(".copy-code").ClickAsync();
        await Expect(first.Locator(".copy-code")).ToHaveTextAsync("Copied");
        Assert.Equal("print(\"<script>window.injected = true</script>\")", await chat.Page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        await chat.Page.Locator(".message.assistant .copy-message").First.ClickAsync();
        Assert.Equal(answer, await chat.Page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
    }
}
