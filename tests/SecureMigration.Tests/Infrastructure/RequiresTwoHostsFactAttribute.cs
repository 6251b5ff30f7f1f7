namespace SecureMigration.Tests.Infrastructure;

/// <summary>A fact that puts hosts in network namespaces (<see cref="TwoHostNetwork"/>) and runs real QEMU: needs root, iproute2 and
/// QEMU.</summary>
public sealed class RequiresTwoHostsFactAttribute : FactAttribute
{
    public RequiresTwoHostsFactAttribute()
    {
        string? missing = new[] { "ip", "qemu-system-x86_64", "as", "ld" }.FirstOrDefault(p => ExternalProgram.Find(p) is null);
        if ((!Environment.IsPrivilegedProcess || missing is not null) && !ExternalProgram.Required)
        {
            Skip = $"this test puts two hosts in network namespaces and runs QEMU: it needs root, iproute2 and qemu-system-x86 " +
                $"({missing ?? "run it as root"}); .ci/run has them.";
        }
    }
}
