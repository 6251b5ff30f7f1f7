namespace SecureMigration.Tests.Etcd.Linearizability;

/// <summary>
/// Decides whether a history of one register's operations is linearizable for a compare-and-swap register (Wing and
/// Gong's search, with memoization of the states already explored): some total order exists that respects real time
/// (an operation that returned before another was invoked comes first), in which every read returns the value before
/// it and every swap moves exactly when the value is what it expected. Operations whose outcome is unknown may be
/// placed anywhere after their call, or left out.
/// </summary>
public static class CasRegisterChecker
{
    /// <summary>Checks <paramref name="history"/> from <paramref name="initial"/>.</summary>
    /// <param name="history">The operations on one register.</param>
    /// <param name="initial">The value before the first operation.</param>
    /// <returns><see langword="null"/> when the history is linearizable; otherwise the operations no order could place.</returns>
    public static string? Check(IReadOnlyList<RegisterOperation> history, RegisterState? initial)
    {
        RegisterOperation[] operations = [.. history.OrderBy(o => o.Called)];
        var search = new Search(operations);
        return search.Run(initial, operations.Count(o => o.Returned is not null))
            ? null
            : $"no linear order explains these {operations.Length} operations; the furthest any order got left: " +
                string.Join("; ", search.Stuck.Take(6));
    }

    /// <summary>The values an operation can leave when placed on <paramref name="state"/>: none when it cannot go there.</summary>
    private static IEnumerable<RegisterState?> Apply(RegisterOperation operation, RegisterState? state)
    {
        if (operation.Move is not { } move)
        {
            // A read changes nothing; one that returned must have seen this very value.
            if (operation.Returned is null || Equals(operation.Observed, state))
            {
                yield return state;
            }

            yield break;
        }

        bool applies = move.AppliesTo(state);
        bool alreadyDone = Equals(state, move.Next);
        if (operation.Returned is null)
        {
            if (applies)
            {
                yield return move.Next;
            }
            else if (alreadyDone)
            {
                yield return state;
            }

            yield break;
        }

        if (operation.Moved && applies && Equals(operation.Observed, move.Next))
        {
            yield return move.Next;
        }
        else if (operation.Moved && alreadyDone)
        {
            yield return state;
        }
        else if (!operation.Moved && !applies && !alreadyDone && Equals(operation.Observed, state))
        {
            yield return state;
        }
    }

    private sealed class Search(RegisterOperation[] operations)
    {
        private readonly bool[] _placed = new bool[operations.Length];
        private readonly HashSet<(string Placed, RegisterState? State)> _seen = [];
        private int _fewestLeft = int.MaxValue;

        public IReadOnlyList<RegisterOperation> Stuck { get; private set; } = [];

        public bool Run(RegisterState? state, int completedLeft)
        {
            if (completedLeft == 0)
            {
                return true;
            }

            if (!_seen.Add((new string([.. _placed.Select(p => p ? '1' : '0')]), state)))
            {
                return false;
            }

            if (completedLeft < _fewestLeft)
            {
                _fewestLeft = completedLeft;
                Stuck = [.. operations.Where((_, i) => !_placed[i] && operations[i].Returned is not null)];
            }

            // Only an operation invoked before every unplaced completed one returned can come next.
            long horizon = operations.Where((o, i) => !_placed[i] && o.Returned is not null).Min(o => o.Returned!.Value);
            for (int i = 0; i < operations.Length && operations[i].Called < horizon; i++)
            {
                if (_placed[i])
                {
                    continue;
                }

                foreach (RegisterState? next in Apply(operations[i], state))
                {
                    _placed[i] = true;
                    if (Run(next, completedLeft - (operations[i].Returned is null ? 0 : 1)))
                    {
                        return true;
                    }

                    _placed[i] = false;
                }
            }

            return false;
        }
    }
}
