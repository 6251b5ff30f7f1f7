using SecureMigration.Qemu.Qmp;
using SecureMigration.TestGuests;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>One trial's pair of QEMUs and the benchmark's own monitor connection to each.</summary>
/// <param name="VmId">The VM's id for this trial (unique per trial, so admission never sees a VM migrate twice).</param>
/// <param name="Source">The source QEMU.</param>
/// <param name="SourceQmp">The benchmark's connection to the source's test monitor.</param>
/// <param name="Destination">The destination QEMU.</param>
/// <param name="DestinationQmp">The benchmark's connection to the destination's test monitor.</param>
internal sealed record MigrationHosts(string VmId, GuestQemu Source, QmpClient SourceQmp, GuestQemu Destination, QmpClient DestinationQmp);
