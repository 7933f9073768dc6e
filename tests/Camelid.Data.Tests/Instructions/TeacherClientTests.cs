using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Camelid.Data.Teacher;
using Camelid.Tests.Teachers;

namespace Camelid.Data.Tests.Instructions;

/// <summary>The OpenAI-compatible client against the scripted teacher over real HTTP on 127.0.0.1.</summary>
public class TeacherClientTests
{
    static TeacherOptions Options(Uri url, TeacherEndpoint endpoint = TeacherEndpoint.Chat) => new()
    {
        BaseUrl = url,
        Model = "scripted",
        Endpoint = endpoint,
        RequestTimeout = TimeSpan.FromSeconds(3), // generous: a fresh server on a busy 2-core machine can be slow to answer
        MaxRetries = 3,
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        RetryMaxDelay = TimeSpan.FromMilliseconds(20),
        RetryAfterLimit = TimeSpan.FromMilliseconds(20), // the server asks for 1 s; tests need not wait it out
    };

    static TeacherRequest Request(string prompt) => new() { Prompt = prompt, MaxTokens = 100, Stop = ["\n20"], Seed = 1 };

    const string AlpacaLikePrompt = "Requirements\nList of 20 tasks:\n###\n1. Instruction: Name a river.\n1. Input:\n<noinput>\n1. Output:\nThe Nile.\n###\n2. Instruction:";

    [Theory]
    [InlineData(TeacherEndpoint.Chat)]
    [InlineData(TeacherEndpoint.Completions)]
    public async Task Answers_AndCountsTokens(TeacherEndpoint endpoint)
    {
        await using var server = await ScriptedTeacher.StartAsync();
        using var teacher = new OpenAiCompatibleTeacher(Options(server.Url, endpoint));
        var answer = await teacher.CompleteAsync(Request(AlpacaLikePrompt), CancellationToken.None);
        var expected = ScriptedAnswers.Answer(AlpacaLikePrompt);
        Assert.Equal(expected.Text, answer.Text);
        Assert.Equal(expected.FinishReason, answer.FinishReason);
        Assert.True(answer.Usage.PromptTokens > 10 && answer.Usage.CompletionTokens > 10);
        Assert.Equal(answer.Usage, teacher.Usage);
        Assert.Equal(1, teacher.Attempts);
        Assert.Equal(1, server.Requests);
    }

    [Theory]
    [InlineData(TeacherFailure.RateLimited)]
    [InlineData(TeacherFailure.ServerError)]
    [InlineData(TeacherFailure.Slow)]
    [InlineData(TeacherFailure.TruncatedBody)]
    [InlineData(TeacherFailure.InvalidJson)]
    public async Task TransientFailures_AreRetried(TeacherFailure failure)
    {
        await using var server = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions { FailFirst = [failure] });
        using var teacher = new OpenAiCompatibleTeacher(Options(server.Url));
        var answer = await teacher.CompleteAsync(Request(AlpacaLikePrompt), CancellationToken.None);
        Assert.Equal(ScriptedAnswers.Answer(AlpacaLikePrompt).Text, answer.Text);
        Assert.Equal(1, server.Injected[failure]);
        Assert.Equal(2, teacher.Attempts);
        Assert.Equal(1, teacher.Retries);
    }

    [Fact]
    public async Task PersistentFailure_GivesUpWithAClearMessage()
    {
        await using var server = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions { AlwaysStatus = 503 });
        using var teacher = new OpenAiCompatibleTeacher(Options(server.Url));
        var e = await Assert.ThrowsAsync<TeacherException>(() => teacher.CompleteAsync(Request("hi"), CancellationToken.None));
        Assert.Contains("HTTP 503", e.Message);
        Assert.Contains("gave up after 4 attempts", e.Message);
        Assert.Equal(4, server.Requests);
    }

    [Fact]
    public async Task Unauthorized_IsNotRetried()
    {
        await using var server = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions { AlwaysStatus = 401 });
        using var teacher = new OpenAiCompatibleTeacher(Options(server.Url));
        var e = await Assert.ThrowsAsync<TeacherException>(() => teacher.CompleteAsync(Request("hi"), CancellationToken.None));
        Assert.Contains("refused", e.Message);
        Assert.Contains("--api-key", e.Message);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task NotFound_IsNotRetried_AndNamesTheOptionsOfTheCommandInUse()
    {
        await using var server = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions { AlwaysStatus = 404 });
        using (var selfInstruct = new OpenAiCompatibleTeacher(Options(server.Url)))
        {
            var e = await Assert.ThrowsAsync<TeacherException>(() => selfInstruct.CompleteAsync(Request("hi"), CancellationToken.None));
            Assert.StartsWith("the teacher at ", e.Message);
            Assert.EndsWith("refused the request: HTTP 404 NotFound: {\"error\": {\"message\": \"scripted failure\"}} (check --teacher-url, --teacher-model and --endpoint)", e.Message);
        }
        // A command without a route option (eval judge) names only its own two.
        var judgeOptions = Options(server.Url) with { Role = "judge", UrlOption = "--judge-url", ModelOption = "--judge-model", EndpointOption = null };
        using (var judge = new OpenAiCompatibleTeacher(judgeOptions))
        {
            var e = await Assert.ThrowsAsync<TeacherException>(() => judge.CompleteAsync(Request("hi"), CancellationToken.None));
            Assert.StartsWith("the judge at ", e.Message);
            Assert.EndsWith("(check --judge-url and --judge-model)", e.Message);
        }
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Unreachable_SaysSo()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        using var teacher = new OpenAiCompatibleTeacher(Options(new Uri($"http://127.0.0.1:{port}")) with { MaxRetries = 1 });
        var e = await Assert.ThrowsAsync<TeacherException>(() => teacher.CompleteAsync(Request("hi"), CancellationToken.None));
        Assert.Contains("cannot reach the teacher", e.Message);
        Assert.Contains("gave up after 2 attempts", e.Message);
    }

    [Fact]
    public async Task Cancellation_IsNotAFailure()
    {
        await using var server = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions { FailFirst = [TeacherFailure.Slow], SlowDelay = TimeSpan.FromSeconds(5) });
        using var teacher = new OpenAiCompatibleTeacher(Options(server.Url) with { RequestTimeout = TimeSpan.FromSeconds(30) });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => teacher.CompleteAsync(Request("hi"), cancel.Token));
    }

    [Fact]
    public void RetryDelay_HonoursRetryAfter_ElseBacksOffWithJitter()
    {
        var options = new TeacherOptions { BaseUrl = new Uri("http://x"), Model = "m", RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(60) };
        Assert.Equal(TimeSpan.FromSeconds(7), TeacherRetryPolicy.Delay(0, TimeSpan.FromSeconds(7), options, 0.9));
        Assert.Equal(TimeSpan.FromMinutes(5), TeacherRetryPolicy.Delay(0, TimeSpan.FromHours(1), options, 0.9)); // RetryAfterLimit
        Assert.Equal(TimeSpan.FromSeconds(0.5), TeacherRetryPolicy.Delay(0, null, options, 0));
        Assert.Equal(TimeSpan.FromSeconds(1), TeacherRetryPolicy.Delay(0, null, options, 1));
        Assert.Equal(TimeSpan.FromSeconds(4), TeacherRetryPolicy.Delay(3, null, options, 0));     // 8 s, half fixed
        Assert.Equal(TimeSpan.FromSeconds(30), TeacherRetryPolicy.Delay(12, null, options, 0));   // capped at 60 s
        Assert.Equal(TimeSpan.FromSeconds(60), TeacherRetryPolicy.Delay(40, null, options, 1));
    }

    [Fact]
    public void Pacer_SpacesRequestStarts()
    {
        var pacer = new RequestPacer(requestsPerMinute: 60); // one start a second
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp(), second = System.Diagnostics.Stopwatch.Frequency;
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(t0));
        Assert.Equal(TimeSpan.FromSeconds(1), pacer.Reserve(t0));
        Assert.Equal(TimeSpan.FromSeconds(1.5), pacer.Reserve(t0 + second / 2));
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(t0 + 10 * second));       // idle time is not saved up as a burst
        Assert.Equal(TimeSpan.FromSeconds(1), pacer.Reserve(t0 + 10 * second));
    }

    [Fact]
    public void RetryAfter_ReadsSecondsAndDates()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(3), TeacherRetryPolicy.RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(3)), now));
        Assert.Equal(TimeSpan.FromSeconds(90), TeacherRetryPolicy.RetryAfter(new RetryConditionHeaderValue(now.AddSeconds(90)), now));
        Assert.Equal(TimeSpan.Zero, TeacherRetryPolicy.RetryAfter(new RetryConditionHeaderValue(now.AddSeconds(-5)), now));
        Assert.Null(TeacherRetryPolicy.RetryAfter(null, now));
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    public void WhichStatusesAreRetried(HttpStatusCode status, bool retried) =>
        Assert.Equal(retried, TeacherRetryPolicy.IsTransient(new TeacherHttpException(status, null, "")));

    [Theory]
    [InlineData("http://127.0.0.1:8080", TeacherEndpoint.Chat, "http://127.0.0.1:8080/v1/chat/completions")]
    [InlineData("http://127.0.0.1:8080/", TeacherEndpoint.Completions, "http://127.0.0.1:8080/v1/completions")]
    [InlineData("https://api.openai.com/v1", TeacherEndpoint.Chat, "https://api.openai.com/v1/chat/completions")]
    [InlineData("http://h/proxy/v1/", TeacherEndpoint.Chat, "http://h/proxy/v1/chat/completions")]
    [InlineData("http://h/custom/chat/completions", TeacherEndpoint.Chat, "http://h/custom/chat/completions")]
    public void Route(string baseUrl, TeacherEndpoint endpoint, string expected) =>
        Assert.Equal(expected, OpenAiCompatibleTeacher.Route(new Uri(baseUrl), endpoint).ToString());

    [Theory]
    [InlineData("{\"choices\": []}", "no \"choices\"")]
    [InlineData("{\"choices\": [{\"text\": \"hi\"}]}", "try --endpoint completions")]
    [InlineData("{\"choices\": [{\"message\": {\"content\": \"hi\"}", "not valid JSON")]
    [InlineData("<html>502 Bad Gateway</html>", "not valid JSON")]
    public void BrokenAnswers_AreResponseErrors(string body, string message)
    {
        var e = Assert.Throws<TeacherResponseException>(() => OpenAiCompatibleTeacher.Parse(body, TeacherEndpoint.Chat));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AnAnswerOfTheOtherRoute_SuggestsTheRouteOption_OnlyWhereThereIsOne()
    {
        const string completionsShaped = "{\"choices\": [{\"text\": \"hi\"}]}";
        var judge = Assert.Throws<TeacherResponseException>(() => OpenAiCompatibleTeacher.Parse(completionsShaped, TeacherEndpoint.Chat, "judge", endpointOption: null));
        Assert.Equal("the judge's answer has no choices[0].message.content (is this a /v1/completions server? this command needs /v1/chat/completions)", judge.Message);
        var teacher = Assert.Throws<TeacherResponseException>(() => OpenAiCompatibleTeacher.Parse("{\"choices\": [{\"message\": {\"content\": \"hi\"}}]}", TeacherEndpoint.Completions));
        Assert.Equal("the teacher's answer has no choices[0].text (is this a chat server? try --endpoint chat)", teacher.Message);
    }
}
