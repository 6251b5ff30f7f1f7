using System.IO.Pipelines;
using SecureMigration.Channel;

namespace SecureMigration.Tests.Infrastructure;

public static class ChannelDraining
{
    /// <summary>
    /// Reads and drops what the peer sends until it closes the channel (or the channel fails), so a test's impostor
    /// keeps its end open until the peer has read everything the impostor sent.
    /// </summary>
    public static async Task DrainUntilClosedAsync(this PipeReader input)
    {
        try
        {
            while (true)
            {
                ReadResult read = await input.ReadAsync();
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (SecureChannelException)
        {
            // The peer went away without close_notify: closed just the same.
        }
    }
}
