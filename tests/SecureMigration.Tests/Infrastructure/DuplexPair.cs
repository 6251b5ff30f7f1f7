using System.IO.Pipelines;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>Two connected in-memory transport ends.</summary>
public sealed class DuplexPair
{
    public DuplexPair(PipeOptions? options = null)
    {
        var toServer = new Pipe(options ?? PipeOptions.Default);
        var toClient = new Pipe(options ?? PipeOptions.Default);
        Client = new Duplex(toClient.Reader, toServer.Writer);
        Server = new Duplex(toServer.Reader, toClient.Writer);
    }

    public IDuplexPipe Client { get; }

    public IDuplexPipe Server { get; }

    public sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
