namespace SecureMigration.Tests.Infrastructure;

/// <summary>A fact that puts hosts in network namespaces (<see cref="HostNetwork"/>) and runs real QEMU: needs root, iproute2 and
/// QEMU, and the programs named.</summary>
public sealed class RequiresTwoHostsFactAttribute : FactAttribute
{
    /// <param name="programs">Other programs the test runs (etcd, tc).</param>
    public RequiresTwoHostsFactAttribute(params string[] programs)
    {
        string? missing = new[] { "ip", "qemu-system-x86_64", "as", "ld" }.Concat(programs).FirstOrDefault(p => ExternalProgram.Find(p) is
            null);
        if ((!Environment.IsPrivilegedProcess || missing is not null) && !ExternalProgram.Required)
        {
            Skip = $"this test puts two hosts in network namespaces and runs QEMU: it needs root, iproute2 and qemu-system-x86 " +
                $"({missing ?? "run it as root"}); .ci/run has them.";
        }
    }

    /// <summary>Gets or sets whether the test shapes links with <c>tc netem</c>: skipped, whatever is installed, on a kernel
    /// without sch_netem (a machine's kernel, not a package .ci/run could install).</summary>
    public bool Netem
    {
        get;
        set
        {
            field = value;
            if (value && Skip is null && Environment.IsPrivilegedProcess && !HostNetwork.HasNetem)
            {
                Skip = "this kernel has no tc netem (sch_netem): 'tc qdisc add ... netem' answers 'Specified qdisc kind is " +
                    "unknown'; the latency and loss run needs a kernel with it.";
            }
        }
    }
}
