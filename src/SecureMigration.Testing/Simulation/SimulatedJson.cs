using System.Text.Json.Serialization;

namespace SecureMigration.Testing.Simulation;

/// <summary>Source-generated JSON for the simulated hypervisor's state files.</summary>
[JsonSerializable(typeof(SimulatedVmRecord))]
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
internal sealed partial class SimulatedJson : JsonSerializerContext;
