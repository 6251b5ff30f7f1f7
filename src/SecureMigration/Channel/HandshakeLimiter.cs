using System.Net;

namespace SecureMigration.Channel;

/// <summary>
/// Caps the handshakes in progress on a listener, in total and per remote address, so a flood of
/// unauthenticated connections cannot exhaust the host. Bounded: one entry per address with a handshake in progress.
/// </summary>
internal sealed class HandshakeLimiter(int maxTotal, int maxPerAddress)
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly Lock _gate = new();
    private int _total;

    public int Active
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    public bool TryEnter(IPAddress address, out int active, out int fromAddress)
    {
        lock (_gate)
        {
            _perAddress.TryGetValue(address, out fromAddress);
            active = _total;
            if (_total >= maxTotal || fromAddress >= maxPerAddress)
            {
                return false;
            }

            _perAddress[address] = fromAddress + 1;
            _total++;
            return true;
        }
    }

    public void Exit(IPAddress address)
    {
        lock (_gate)
        {
            _total--;
            int remaining = _perAddress[address] - 1;
            if (remaining == 0)
            {
                _perAddress.Remove(address);
            }
            else
            {
                _perAddress[address] = remaining;
            }
        }
    }
}
