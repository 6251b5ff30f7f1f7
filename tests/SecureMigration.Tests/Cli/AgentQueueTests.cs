using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>
/// A burst of migration requests through the control API (issue 19): each is accepted and ends once, completed or refused with a
/// reason, none lost or run twice, and never more at once than the host's outbound cap (2); the rest wait their turn.
/// </summary>
public sealed class AgentQueueTests : IDisposable
{
    private const int Requests = 200;
    private readonly TempDirectory _dir = new();

    public AgentQueueTests()
    {
        Secmig.RunAsync("pki", "init", "--out", _dir.File("ca")).GetAwaiter().GetResult();
        Secmig.RunAsync("pki", "issue", "--ca", _dir.File("ca"), "--name", "src.test", "--out", _dir.File("src")).GetAwaiter().GetResult();
    }

    [Fact]
    public async Task TwoHundredRequestsAtOnce_AllEndOnceWithAReason_AtMostTwoRunningAtATime()
    {
        // VMs whose QEMU is not there: each migration is refused by the coordinator once it runs, so the queue is what is tested.
        string[] vms = [.. Enumerable.Range(1, Requests).Select(i => $"vm{i}")];
        await using ExternalProcess agent = Secmig.Start(["agent", "--listen", "127.0.0.1:0",
            .. vms.SelectMany(vm => new[] { "--vm", $"{vm}={_dir.File($"none/{vm}.qmp")}" }), "--work", _dir.File("work"), "--registry",
            _dir.File("registry"), "--cert", _dir.File("src/cert.pem"), "--key", _dir.File("src/key.pem"), "--ca", _dir.File("ca/ca.pem")]);
        await agent.WaitForAsync("control ");
        using var client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 16,
            ConnectCallback = async (_, token) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
                    System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(_dir.File("work/control.sock")), token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://agent") };

        HttpResponseMessage[] posted = await Task.WhenAll(vms.Select(vm => client.PostAsJsonAsync("/v1/migrations",
            new { vm, to = "127.0.0.1:9", peerName = "dst.test", retries = 0 })));
        string[] ids = [.. await Task.WhenAll(posted.Select(async response =>
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            using JsonDocument started = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return started.RootElement.GetProperty("id").GetString()!;
        }))];
        var views = new List<JsonElement>();
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // a migration that never ends fails the test
        foreach (string id in ids)
        {
            for (int next = 0; ;)
            {
                using JsonDocument view = JsonDocument.Parse(await client.GetStringAsync($"/v1/migrations/{id}?after={next}&wait=30",
                    patience.Token));
                next = view.RootElement.GetProperty("next").GetInt32();
                if (view.RootElement.GetProperty("outcome").ValueKind == JsonValueKind.Object)
                {
                    using JsonDocument whole = JsonDocument.Parse(await client.GetStringAsync($"/v1/migrations/{id}?after=0"));
                    views.Add(whole.RootElement.Clone());
                    break;
                }
            }
        }

        using JsonDocument list = JsonDocument.Parse(await client.GetStringAsync("/v1/migrations"));

        Assert.Equal(Requests, ids.Distinct().Count());
        Assert.Equal(ids.Order(), list.RootElement.EnumerateArray().Select(m => m.GetProperty("id").GetString()!).Order());
        Assert.Equal(vms.Order(), views.Select(v => v.GetProperty("request").GetProperty("vm").GetString()!).Order());
        Assert.All(views, view =>
        {
            JsonElement outcome = view.GetProperty("outcome");
            Assert.Equal("Refused", outcome.GetProperty("status").GetString());
            Assert.False(string.IsNullOrWhiteSpace(outcome.GetProperty("reason").GetString()));
        });
        var intervals = views.Select(v => (Start: v.GetProperty("startedAt").GetDateTimeOffset(), End: v.GetProperty("endedAt")
            .GetDateTimeOffset())).ToList();
        int mostAtOnce = intervals.Max(i => intervals.Count(other => other.Start <= i.Start && i.Start < other.End));
        Assert.InRange(mostAtOnce, 1, 2);
        Assert.Contains(views, v => v.GetProperty("lines").EnumerateArray().Any(line => line.GetString()!.StartsWith("queued ",
            StringComparison.Ordinal)));
    }

    public void Dispose() => _dir.Dispose();
}
