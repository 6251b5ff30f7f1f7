using System.Text.Json.Serialization;

namespace SecureMigration.Coordination.Drivers.Simulation;

/// <summary>Source-generated JSON for the simulated hypervisor's state files.</summary>
[JsonSerializable(typeof(SimulatedVmRecord))]
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
internal sealed partial class SimulatedJson : JsonSerializerContext;
