using System.ClientModel;
using Camelid.Model.Conversion;
using Camelid.Server.Hosting;
using Camelid.Tests;
using OpenAI;

namespace Camelid.Server.Tests;

/// <summary>
/// A real `camelid serve` in this process on a free loopback port, serving a random-weight model the test
/// writes ("tiny", always there) and llama2.c's stories260K ("stories", when ../shared/data is present).
/// </summary>
public class ServerFixture : IAsyncLifetime
{
    public static readonly string StoriesPath = TestPaths.Shared("models/stories260K.gguf");
    public static bool HasStories => File.Exists(StoriesPath);

    readonly string _dir = TestPaths.NewTempDir("server");
    RunningServer? _server;

    public Uri Address => _server!.Address;
    public Uri ApiBase => new(Address, "/v1/");
    public RunningServer Server => _server!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };
    public string TinyPath => Path.Combine(_dir, "tiny.gguf");

    /// <summary>The shape of the random-weight "tiny" model.</summary>
    protected virtual ModelShape TinyShape => ModelShapes.Named["stories260k"];
    protected virtual LlamaFileType TinyFileType => LlamaFileType.AllF32;

    protected virtual ServeOptions Options(IReadOnlyList<ModelSpec> models) => new()
    {
        Models = models, Port = 0, Parallel = 8, ContextLength = 256, MaxQueue = 256,
    };

    public async Task InitializeAsync()
    {
        ModelSynthesizer.Synthesize(TinyShape, TinyFileType, seed: 5, TinyPath);
        var models = new List<ModelSpec> { new(TinyPath, "tiny") };
        if (HasStories)
            models.Add(new ModelSpec(StoriesPath, "stories"));
        _server = await CamelidServer.StartAsync(Options(models), _ => { });
        await _server.Loaded;
        Http.BaseAddress = Address;
    }

    public OpenAIClient OpenAi(string key = "unused") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = ApiBase, NetworkTimeout = TimeSpan.FromMinutes(2) });

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_server != null)
            await _server.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
