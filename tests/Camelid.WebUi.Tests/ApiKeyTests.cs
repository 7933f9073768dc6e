using static Microsoft.Playwright.Assertions;

namespace Camelid.WebUi.Tests;

/// <summary>A server started with --api-key: the page asks for the key, keeps it, and sends it.</summary>
[Collection(WebUiCollection.Name)]
public sealed class ApiKeyTests(WebUiFixture fixture) : WebUiTest(fixture)
{
    [ChromiumFact]
    public async Task KeyField_AppearsOn401_AndTheRightKeyMakesChatWork()
    {
        await using var server = await CamelidServer.StartAsync(Fixture.ModelPath, "--api-key", "secret");
        var chat = await OpenAsync(server: server.BaseUrl);

        await Expect(chat.ApiKey).ToBeVisibleAsync();
        await Expect(chat.Model.Locator("option")).ToHaveCountAsync(0);

        await chat.ApiKey.FillAsync("wrong");
        await chat.ApiKey.PressAsync("Enter");
        await Expect(chat.Page.Locator("#auth-message")).ToContainTextAsync("not accepted");
        await Expect(chat.ApiKey).ToBeVisibleAsync();

        await chat.ApiKey.FillAsync("secret");
        await chat.Page.Locator("#save-api-key").ClickAsync();
        await Expect(chat.ApiKey).ToBeHiddenAsync();
        await chat.WaitForModelsAsync();

        await chat.SetSettingsAsync(maxTokens: "8");
        var request = await chat.SendAndCaptureRequestAsync("Hello with a key");
        Assert.Equal("Bearer secret", await request.HeaderValueAsync("authorization"));
        await chat.WaitUntilReadyAsync();
        await Expect(chat.LastAnswer).ToHaveTextAsync(ChatPage.AnyText);
        await Expect(chat.Error).ToBeHiddenAsync();

        // The key is remembered: after a reload the page works without asking again.
        Assert.Equal("secret", await chat.LocalStorageAsync("camelid.apiKey"));
        await chat.Page.ReloadAsync();
        await chat.WaitForModelsAsync();
        await Expect(chat.ApiKey).ToBeHiddenAsync();
    }
}
