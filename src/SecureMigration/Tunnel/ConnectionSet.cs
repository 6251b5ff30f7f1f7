namespace SecureMigration.Tunnel;

/// <summary>The tunnelled connections a tunnel end is carrying, so stopping can wait for every one to end.</summary>
internal sealed class ConnectionSet
{
    private readonly List<Task> _open = [];

    public void Add(Task connection)
    {
        lock (_open)
        {
            _open.RemoveAll(t => t.IsCompleted);
            _open.Add(connection);
        }
    }

    public Task WhenAllEnded()
    {
        lock (_open)
        {
            return Task.WhenAll([.. _open]);
        }
    }
}
