using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Transport;

/// <summary>
/// The one place a migration transport meets a socket: a TCP connect with Nagle off, bounded by the caller's token and
/// an optional timeout, and the wrap of a connected socket in a <see cref="StreamDuplexPipe"/>. The channel factory,
/// the listener and both tunnel ends use it; the layers above them (TLS, the tunnel splice) see only pipes.
/// </summary>
internal static class SocketTransport
{
    /// <summary>
    /// Connects a TCP socket to <paramref name="remote"/> with Nagle off. A refusal surfaces as the
    /// <see cref="SocketException"/>, a timeout or cancellation as <see cref="OperationCanceledException"/>; the socket
    /// is disposed either way.
    /// </summary>
    /// <param name="remote">The address to connect to.</param>
    /// <param name="timeout">How long the connect may take, or <see langword="null"/> for no bound but the token.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connected socket; the caller owns it.</returns>
    public static async Task<Socket> ConnectAsync(EndPoint remote, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (timeout is not { } bound)
            {
                await socket.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
                return socket;
            }

            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(bound);
            await socket.ConnectAsync(remote, connectTimeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects like <see cref="ConnectAsync"/> and wraps the socket; the pipe owns it.</summary>
    /// <param name="remote">The address to connect to.</param>
    /// <param name="timeout">How long the connect may take, or <see langword="null"/> for no bound but the token.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The transport pipe over the connected socket.</returns>
    public static async Task<StreamDuplexPipe> ConnectPipeAsync(EndPoint remote, TimeSpan? timeout, CancellationToken cancellationToken) =>
        Wrap(await ConnectAsync(remote, timeout, cancellationToken).ConfigureAwait(false));

    /// <summary>Wraps a connected (or accepted) socket; the pipe owns it, and the socket is disposed if the wrap fails.</summary>
    /// <param name="connected">The connected socket.</param>
    /// <returns>The transport pipe.</returns>
    public static StreamDuplexPipe Wrap(Socket connected)
    {
        try
        {
            return StreamDuplexPipe.Create(connected);
        }
        catch
        {
            connected.Dispose();
            throw;
        }
    }
}
