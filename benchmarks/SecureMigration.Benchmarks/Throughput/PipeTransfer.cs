using System.IO.Pipelines;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>Moves bytes one way through a channel: the sender writes in <see cref="ThroughputRunner.WriteSize"/> chunks, the receiver
/// drains.</summary>
internal static class PipeTransfer
{
    public static async Task SendAndDrainAsync(PipeWriter output, PipeReader input, long bytes)
    {
        Task receive = Task.Run(async () =>
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync();
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        });
        byte[] chunk = new byte[ThroughputRunner.WriteSize];
        for (long sent = 0; sent < bytes; sent += chunk.Length)
        {
            await output.WriteAsync(chunk);
        }

        await output.CompleteAsync();
        await receive;
    }
}
