using System.Net.Sockets;

namespace SecureMigration.Tests.Infrastructure;

public static class SocketReading
{
    /// <summary>Reads until the peer closes; a reset ends the stream as surely as a close.</summary>
    public static async Task<byte[]> ReceiveToEndAsync(this Socket socket)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The tunnel reset the connection.
        }

        return received.ToArray();
    }
}
