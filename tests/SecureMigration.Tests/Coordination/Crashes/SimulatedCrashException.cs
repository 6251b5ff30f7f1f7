namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>Thrown where a host's process dies; nothing in the library catches it, so the host stops acting at once.</summary>
internal sealed class SimulatedCrashException(string where) : Exception($"Simulated crash at {where}.");
