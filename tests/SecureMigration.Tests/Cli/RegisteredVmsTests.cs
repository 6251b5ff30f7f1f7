using SecureMigration.Cli.Live;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Testing.InMemory;
using SecureMigration.Tests.Coordination;

namespace SecureMigration.Tests.Cli;

public sealed class RegisteredVmsTests
{
    [Fact]
    public async Task EnsureAsync_AVmSeenBefore_IsNotAskedOfTheRegistryAgain()
    {
        var registry = new RegisterCountingRegistry(new InMemoryOwnershipRegistry(TimeProvider.System));
        var vms = new RegisteredVms(registry, "here.test");

        await vms.EnsureAsync("vm-1", CancellationToken.None);
        await vms.EnsureAsync("vm-1", CancellationToken.None);
        await vms.EnsureAsync("vm-2", CancellationToken.None);

        Assert.Equal(["vm-1", "vm-2"], registry.Registered);
        Assert.Equal("here.test", (await registry.GetAsync("vm-1"))!.Owner);
    }

    [Fact]
    public async Task EnsureAsync_ARegistrationThatFailed_IsAskedAgain()
    {
        var registry = new RegisterCountingRegistry(new InMemoryOwnershipRegistry(TimeProvider.System)) { FailNext = true };
        var vms = new RegisteredVms(registry, "here.test");

        await Assert.ThrowsAsync<IOException>(async () => await vms.EnsureAsync("vm-1", CancellationToken.None));
        await vms.EnsureAsync("vm-1", CancellationToken.None);

        Assert.Equal(["vm-1", "vm-1"], registry.Registered);
        Assert.NotNull(await registry.GetAsync("vm-1"));
    }

    private sealed class RegisterCountingRegistry(IOwnershipRegistry inner) : MoveFaultRegistry(inner)
    {
        public List<string> Registered { get; } = [];

        public bool FailNext { get; set; }

        public override ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default)
        {
            Registered.Add(vmId);
            if (FailNext)
            {
                FailNext = false;
                throw new IOException("the registry's disk is gone");
            }

            return base.RegisterAsync(vmId, owner, cancellationToken);
        }

        protected override ValueTask<OwnershipMove> AroundMoveAsync(Func<ValueTask<OwnershipMove>> move) => move();
    }
}
