using System.CommandLine;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;

namespace SecureMigration.Cli.Commands;

/// <summary>The repeated <c>--vm ID=QMP</c> option of the commands that drive several VMs' QEMU: each VM's id and its monitor.</summary>
internal static class VmMonitors
{
    public static Option<string[]> CreateOption(string description) => new("--vm")
    {
        Description = description,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Parses repeated ID=QMP values; a malformed or repeated one is an <see cref="ArgumentException"/> that shows the
    /// form.</summary>
    public static List<QemuVm> Parse(string[] values)
    {
        var vms = new List<QemuVm>();
        foreach (string value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == value.Length - 1)
            {
                throw new ArgumentException($"--vm '{value}' is not ID=QMP (for example vm1=/run/vm1.qmp, or vm1=tcp:127.0.0.1:4444 with " +
                    $"--allow-tcp-qmp).");
            }

            vms.Add(new QemuVm(value[..equals], QmpEndPoints.Parse(value[(equals + 1)..])));
        }

        if (vms.GroupBy(vm => vm.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new ArgumentException($"--vm names VM '{duplicate.Key}' more than once.");
        }

        return vms;
    }
}
