using System.Text.Json.Serialization;

namespace SecureMigration.Admission.State;

/// <summary>Source-generated JSON for the state file (trimming- and AOT-safe).</summary>
[JsonSerializable(typeof(AdmissionSnapshot))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class AdmissionSnapshotJson : JsonSerializerContext;
