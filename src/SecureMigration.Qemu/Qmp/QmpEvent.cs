using System.Text.Json;

namespace SecureMigration.Qemu.Qmp;

/// <summary>An asynchronous event QEMU sent (for example <c>MIGRATION</c>, <c>RESUME</c>, <c>SHUTDOWN</c>).</summary>
/// <param name="Name">The event's name.</param>
/// <param name="Data">Its data (an empty object when QEMU sent none); a detached copy.</param>
/// <param name="Timestamp">When QEMU emitted it.</param>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp);
