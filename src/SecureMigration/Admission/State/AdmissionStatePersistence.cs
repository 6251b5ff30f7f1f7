namespace SecureMigration.Admission.State;

/// <summary>
/// Moves <see cref="AdmissionMemory"/> to and from a store: sealed with <see cref="AdmissionStateCodec"/> on save;
/// loaded, checked against the options' bounds and imported on restore. What cannot be read or does not hold together
/// is reported as a problem, never half-trusted; the controller then restricts itself.
/// </summary>
internal static class AdmissionStatePersistence
{
    /// <summary>Seals what <paramref name="memory"/> holds at <paramref name="now"/>; call under the controller's lock.</summary>
    /// <param name="memory">The state.</param>
    /// <param name="now">The time of the save.</param>
    /// <returns>The sealed bytes.</returns>
    public static byte[] Seal(AdmissionMemory memory, DateTimeOffset now) => AdmissionStateCodec.Encode(new AdmissionSnapshot(
        AdmissionSnapshot.CurrentVersion,
        now,
        memory.GlobalBudget.Export(),
        [.. memory.Vms.Values.Select(vm => new VmSnapshot(vm.VmId, vm.LastTouched, vm.LastMovedAt, vm.LastMovedFrom, vm.LastBackoff,
            vm.RetryNotBefore, vm.Budget.Export(), vm.Breaker.Export()))],
        [.. memory.Pairs.Select(p => new HostPairSnapshot(p.Key.Source, p.Key.Destination, p.Value.Budget.Export(),
            p.Value.Breaker.Export()))]));

    /// <summary>Loads the state saved in <paramref name="store"/> into <paramref name="memory"/>, which must be fresh.</summary>
    /// <param name="store">Where the state was saved.</param>
    /// <param name="memory">The fresh state to fill.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>Where the state came from, and what was wrong with it when it was damaged.</returns>
    public static async Task<(AdmissionRestore From, string? Problem)> LoadAsync(IAdmissionStateStore store, AdmissionMemory memory,
        CancellationToken cancellationToken)
    {
        byte[]? saved;
        try
        {
            saved = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return (AdmissionRestore.DamagedStateRestricted, $"it could not be read ({e.Message})");
        }

        if (saved is null)
        {
            return (AdmissionRestore.Fresh, null);
        }

        if (!AdmissionStateCodec.TryDecode(saved, out AdmissionSnapshot? snapshot, out string problem))
        {
            return (AdmissionRestore.DamagedStateRestricted, problem);
        }

        try
        {
            Import(memory, snapshot!);
            return (AdmissionRestore.Restored, null);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return (AdmissionRestore.DamagedStateRestricted, $"its content does not hold together ({e.Message})");
        }
    }

    private static void Import(AdmissionMemory memory, AdmissionSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot.GlobalBudget);
        ArgumentNullException.ThrowIfNull(snapshot.Vms);
        ArgumentNullException.ThrowIfNull(snapshot.Pairs);
        AdmissionOptions options = memory.Options;
        if (snapshot.Vms.Length > options.MaxTrackedVms || snapshot.Pairs.Length > options.MaxTrackedVms)
        {
            throw new FormatException($"it holds {snapshot.Vms.Length} VMs and {snapshot.Pairs.Length} host pairs, more than " +
                $"MaxTrackedVms ({options.MaxTrackedVms})");
        }

        memory.GlobalBudget.Import(snapshot.GlobalBudget);
        foreach (VmSnapshot saved in snapshot.Vms)
        {
            ArgumentException.ThrowIfNullOrEmpty(saved.VmId);
            var vm = new VmAdmissionState(saved.VmId, options)
            {
                LastTouched = saved.LastTouched,
                LastMovedAt = saved.LastMovedAt,
                LastMovedFrom = saved.LastMovedFrom,
                LastBackoff = saved.LastBackoff,
                RetryNotBefore = saved.RetryNotBefore,
            };
            vm.Budget.Import(saved.Budget);
            vm.Breaker.Import(saved.Breaker);
            memory.Vms.Add(saved.VmId, vm);
        }

        foreach (HostPairSnapshot saved in snapshot.Pairs)
        {
            ArgumentException.ThrowIfNullOrEmpty(saved.Source);
            ArgumentException.ThrowIfNullOrEmpty(saved.Destination);
            var pair = new HostPairState(options);
            pair.Budget.Import(saved.Budget);
            pair.Breaker.Import(saved.Breaker);
            memory.Pairs.Add((saved.Source, saved.Destination), pair);
        }
    }
}
