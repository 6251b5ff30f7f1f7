using SecureMigration.TestGuests;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>The settings every trial of a QEMU migration benchmark run shares.</summary>
/// <param name="Directory">Where credentials, monitors and work directories go.</param>
/// <param name="Image">The guest image.</param>
/// <param name="MemoryMiB">The guest's RAM.</param>
/// <param name="Rounds">How many trials each path runs.</param>
internal sealed record MigrationBenchmarkContext(string Directory, string Image, int MemoryMiB, int Rounds)
{
    /// <summary>Gets the directory with ca.pem, source.pem/.key and destination.pem/.key.</summary>
    public string Credentials => Path.Combine(Directory, "pki");

    /// <summary>The VM id of a path's trial.</summary>
    public static string VmId(IMigrationPath path, int round) => $"{path.Key}{round}";

    /// <summary>The source QEMU of a trial: running the guest, RAM in anonymous memory.</summary>
    public GuestQemu Source(string vmId) => new(Directory, vmId + "-src", MemoryMiB, Incoming: false, Paused: false,
        SharedMemoryFile: false);

    /// <summary>The destination QEMU of a trial, started as the path asks.</summary>
    public GuestQemu Destination(string vmId, bool paused) => new(Directory, vmId + "-dst", MemoryMiB, Incoming: true, Paused: paused,
        SharedMemoryFile: false);
}
