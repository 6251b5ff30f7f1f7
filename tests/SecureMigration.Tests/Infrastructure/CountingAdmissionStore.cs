using SecureMigration.Admission.State;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>An admission state store in memory that counts its saves.</summary>
internal sealed class CountingAdmissionStore : IAdmissionStateStore
{
    private byte[]? _state;
    private int _saves;

    public int Saves => Volatile.Read(ref _saves);

    public ValueTask SaveAsync(ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _saves);
        _state = state.ToArray();
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> LoadAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_state);
}
