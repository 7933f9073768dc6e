using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Camelid.WebUi.Tests;

/// <summary>The chat page as a user sees it: the controls they use and the answers they read.</summary>
public sealed class ChatPage(IPage page)
{
    public IPage Page { get; } = page;

    public ILocator Prompt => Page.Locator("#prompt");
    public ILocator Send => Page.Locator("#send");
    public ILocator Stop => Page.Locator("#stop");
    public ILocator Regenerate => Page.Locator("#regenerate");
    public ILocator NewChat => Page.Locator("#new-chat");
    public ILocator Model => Page.Locator("#model");
    public ILocator ApiKey => Page.Locator("#api-key");
    public ILocator Error => Page.Locator("#error");
    public ILocator Conversations => Page.Locator(".conversation");
    public ILocator UserMessages => Page.Locator(".message.user .message-body");
    public ILocator Answers => Page.Locator(".message.assistant .message-body");
    public ILocator LastAnswer => Answers.Last;
    public ILocator LastAnswerStats => Page.Locator(".message.assistant .tokens-per-second").Last;

    public static readonly Regex AnyText = new(@"\S");

    public ILocator Conversation(string title) => Conversations.Filter(new() { HasText = title });

    /// <summary>Waits until the server's model list has filled the picker, so a message can be sent.</summary>
    public async Task WaitForModelsAsync() => await Expect(Model).ToHaveValueAsync(AnyText);

    public async Task SetSettingsAsync(string? temperature = null, string? topP = null, string? maxTokens = null, string? systemPrompt = null)
    {
        if (await Page.Locator("#settings-panel").IsHiddenAsync())
            await Page.Locator("#settings-toggle").ClickAsync();
        if (temperature is not null) await Page.Locator("#temperature").FillAsync(temperature);
        if (topP is not null) await Page.Locator("#top-p").FillAsync(topP);
        if (maxTokens is not null) await Page.Locator("#max-tokens").FillAsync(maxTokens);
        if (systemPrompt is not null) await Page.Locator("#system-prompt").FillAsync(systemPrompt);
    }

    /// <summary>Types a message and presses Enter, as a user sends one.</summary>
    public async Task SendAsync(string text)
    {
        await Prompt.FillAsync(text);
        await Prompt.PressAsync("Enter");
    }

    /// <summary>Sends a message and returns the chat-completions request the page made for it.</summary>
    public Task<IRequest> SendAndCaptureRequestAsync(string text) =>
        Page.RunAndWaitForRequestAsync(() => SendAsync(text), IsChatCompletion);

    public static bool IsChatCompletion(IRequest request) =>
        request.Method == "POST" && request.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal);

    /// <summary>Waits until the answer has finished streaming and the page is ready for the next message.</summary>
    public async Task WaitUntilReadyAsync()
    {
        await Expect(Stop).ToBeHiddenAsync();
        await Expect(Send).ToBeVisibleAsync();
        await Expect(Send).ToBeEnabledAsync();
    }

    public async Task<string> AskAsync(string text)
    {
        await SendAsync(text);
        await WaitUntilReadyAsync();
        await Expect(LastAnswer).ToHaveTextAsync(AnyText);
        return (await LastAnswer.TextContentAsync())!;
    }

    public Task<string?> LocalStorageAsync(string key) => Page.EvaluateAsync<string?>("key => localStorage.getItem(key)", key);
}
