using System.Buffers.Binary;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Testing.Simulation;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination.Simulation;

public sealed class SimulatedHypervisorTests : IDisposable
{
    private const long Size = 4L * 1024 * 1024;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Migration_WhileTheGuestDirtiesMemory_LoadsTheImageAsFrozenAtSwitchover()
    {
        await using var source = new SimulatedHypervisor(Path.Combine(_dir.Path, "a"));
        await using var destination = new SimulatedHypervisor(Path.Combine(_dir.Path, "b"));
        await source.CreateVmAsync("vm-1", Size);

        Stream outgoing = await source.StartOutgoingAsync("vm-1");
        await using (Stream incoming = await destination.PrepareDestinationAsync("vm-1"))
        {
            Assert.Equal(VmRunState.Incoming, (await destination.QueryAsync("vm-1")).State);
            await outgoing.CopyToAsync(incoming);
        }

        await destination.FinishIncomingAsync("vm-1");

        Assert.Equal(VmRunState.Paused, (await source.QueryAsync("vm-1")).State);
        Assert.Equal(VmRunState.Paused, (await destination.QueryAsync("vm-1")).State);
        Assert.NotNull(source.FrozenImageSha256("vm-1"));
        Assert.Equal(source.FrozenImageSha256("vm-1"), destination.FrozenImageSha256("vm-1"));
    }

    [Fact]
    public async Task ResumeSourceAsync_DuringAMigration_CancelsItAndRunsTheVmAgain()
    {
        await using var source = new SimulatedHypervisor(Path.Combine(_dir.Path, "a"));
        await source.CreateVmAsync("vm-1", Size);
        Stream outgoing = await source.StartOutgoingAsync("vm-1");
        byte[] some = new byte[1024];
        await outgoing.ReadExactlyAsync(some);

        await source.ResumeSourceAsync("vm-1");

        Assert.Equal(VmRunState.Running, (await source.QueryAsync("vm-1")).State);
        await Assert.ThrowsAnyAsync<Exception>(async () => await outgoing.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task DiscardSourceAsync_ThenResume_IsRefusedForGood()
    {
        await using var source = new SimulatedHypervisor(Path.Combine(_dir.Path, "a"));
        await source.CreateVmAsync("vm-1", Size);

        IReadOnlyList<string> residue = await source.DiscardSourceAsync("vm-1");

        Assert.Equal([source.ImagePath("vm-1")], residue);
        Assert.Equal(VmRunState.Stopped, (await source.QueryAsync("vm-1")).State);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await source.ResumeSourceAsync("vm-1"));
        await using var restarted = new SimulatedHypervisor(Path.Combine(_dir.Path, "a"));
        Assert.Equal(VmRunState.Stopped, (await restarted.QueryAsync("vm-1")).State);
    }

    [Fact]
    public async Task FinishIncomingAsync_BlockOutsideTheImage_FailsAndTheVmCannotBeActivated()
    {
        await using var destination = new SimulatedHypervisor(Path.Combine(_dir.Path, "b"));
        await using (Stream incoming = await destination.PrepareDestinationAsync("vm-1"))
        {
            byte[] header = new byte[20 + 12];
            "SIMVM1\0\0"u8.CopyTo(header);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), 65536);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 65536);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(20), 65536);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(28), 16);
            try
            {
                await incoming.WriteAsync(header);
            }
            catch (InvalidOperationException)
            {
                // The loader may have refused the stream already.
            }
        }

        await Assert.ThrowsAsync<InvalidDataException>(async () => await destination.FinishIncomingAsync("vm-1"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await destination.ActivateDestinationAsync("vm-1"));
        Assert.Equal(65536, new FileInfo(destination.ImagePath("vm-1")).Length);
    }

    [Fact]
    public async Task FinishIncomingAsync_StreamCutShort_Fails()
    {
        await using var source = new SimulatedHypervisor(Path.Combine(_dir.Path, "a"));
        await using var destination = new SimulatedHypervisor(Path.Combine(_dir.Path, "b"));
        await source.CreateVmAsync("vm-1", Size);
        Stream outgoing = await source.StartOutgoingAsync("vm-1");
        await using (Stream incoming = await destination.PrepareDestinationAsync("vm-1"))
        {
            byte[] part = new byte[100_000];
            await outgoing.ReadExactlyAsync(part);
            await incoming.WriteAsync(part);
        }

        await Assert.ThrowsAsync<InvalidDataException>(async () => await destination.FinishIncomingAsync("vm-1"));
        Assert.Equal(VmRunState.Incoming, (await destination.QueryAsync("vm-1")).State);
    }

    [Fact]
    public async Task DestroyDestinationAsync_WhileTheLoaderWaitsForBytes_StopsItAndReturnsThePartialImage()
    {
        await using var destination = new SimulatedHypervisor(Path.Combine(_dir.Path, "b"));
        await using Stream incoming = await destination.PrepareDestinationAsync("vm-1");

        IReadOnlyList<string> residue = await destination.DestroyDestinationAsync("vm-1");

        Assert.Equal([destination.ImagePath("vm-1")], residue);
        Assert.Equal(VmRunState.Stopped, (await destination.QueryAsync("vm-1")).State);
    }
}
