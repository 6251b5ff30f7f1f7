using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination;

/// <summary>The base class checks what goes into a driver and what comes out of it, whoever wrote the driver.</summary>
public sealed class HypervisorDriverContractTests
{
    [Theory]
    [InlineData("relative/image.qcow2")]
    [InlineData("")]
    [InlineData("/")]
    public async Task DiscardSourceAsync_AResiduePathThatIsNotAnAbsoluteFile_IsRefused(string path)
    {
        var driver = new AnsweringDriver([path]);

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => driver.DiscardSourceAsync("vm-1")
            .AsTask());

        Assert.Contains("AnsweringDriver.DiscardSourceCoreAsync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DestroyDestinationAsync_AbsolutePaths_PassThrough()
    {
        var driver = new AnsweringDriver(["/var/lib/vms/vm-1.img"]);

        Assert.Equal(["/var/lib/vms/vm-1.img"], await driver.DestroyDestinationAsync("vm-1"));
    }

    [Fact]
    public async Task AnInvalidVmId_NeverReachesTheDriver()
    {
        var driver = new AnsweringDriver([]);

        await Assert.ThrowsAsync<ArgumentException>(() => driver.QueryAsync("../etc").AsTask());

        Assert.Equal(0, driver.Calls);
    }

    [Fact]
    public async Task ANullStream_IsRefusedWithTheDriversName()
    {
        var driver = new AnsweringDriver([]);

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => driver.StartOutgoingAsync("vm-1")
            .AsTask());

        Assert.Contains("returned no stream", error.Message, StringComparison.Ordinal);
    }

    private sealed class AnsweringDriver(IReadOnlyList<string> residue) : HypervisorDriver
    {
        public int Calls { get; private set; }

        protected override ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) =>
            Answer<Stream>(null!);

        protected override ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken) => Count();

        protected override ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
            Answer(residue);

        protected override ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
            Answer<Stream>(null!);

        protected override ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken) => Count();

        protected override ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken) => Count();

        protected override ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
            Answer(residue);

        protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken) =>
            Answer(new VmStatus(VmRunState.Running, []));

        private ValueTask<T> Answer<T>(T value)
        {
            Calls++;
            return ValueTask.FromResult(value);
        }

        private ValueTask Count()
        {
            Calls++;
            return ValueTask.CompletedTask;
        }
    }
}
