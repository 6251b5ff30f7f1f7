using System.Globalization;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A process's resident memory now and at its peak, from /proc/PID/status, in MiB.</summary>
public readonly record struct ProcessMemory(double ResidentMiB, double PeakResidentMiB)
{
    public static ProcessMemory Of(int pid)
    {
        string[] status = File.ReadAllLines($"/proc/{pid}/status");
        return new ProcessMemory(Field(status, "VmRSS:"), Field(status, "VmHWM:"));
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"VmRSS {ResidentMiB:0.0} MiB, VmHWM {PeakResidentMiB:0.0} MiB");

    private static double Field(string[] status, string name)
    {
        string line = status.Single(l => l.StartsWith(name, StringComparison.Ordinal));
        return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
    }
}
