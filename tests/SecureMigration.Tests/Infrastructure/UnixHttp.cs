using System.Net.Sockets;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>An HTTP client that reaches a server on a unix socket (the agent's control API), as curl --unix-socket does.</summary>
public static class UnixHttp
{
    /// <summary>Creates a client for the server on <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">The socket.</param>
    /// <returns>The client; dispose it.</returns>
    public static HttpClient Client(string socketPath) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri("http://agent") };
}
