namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>
/// The steps, as a <see cref="CrashPlan"/> counts them, that each host of a <see cref="TwoHosts"/> migration reaches:
/// a crash planned at a step past them would crash nowhere. A crashed host cuts its peer's run short, so a crash of
/// both hosts is only sure to happen when each crash point is reached whichever host dies first.
/// </summary>
internal static class CrashSteps
{
    /// <summary>A source's steps when nothing crashes: its 9th is just before its reclaim attempt, after the commit request.</summary>
    public const int Source = 15;

    /// <summary>A destination's steps when nothing crashes: its 10th is just before it takes the epoch, its 11th just after.</summary>
    public const int Destination = 16;

    /// <summary>The destination's step just after it took the epoch in the registry, before it journaled the commit.</summary>
    public const int DestinationTookTheEpoch = 11;

    /// <summary>
    /// Whether a source crashing at <paramref name="sourceStep"/> and a destination crashing at
    /// <paramref name="destinationStep"/> both reach their crash, in either order.
    /// </summary>
    public static bool BothReached(int sourceStep, int destinationStep) =>
        sourceStep is >= 1 and <= Source && destinationStep is >= 1 and <= Destination
        && destinationStep <= DestinationStepsAfterSourceCrash(sourceStep) &&
            sourceStep <= SourceStepsAfterDestinationCrash(destinationStep);

    /// <summary>
    /// The destination's steps when its source dies at <paramref name="sourceStep"/>: none before the source opens the
    /// channel, up to its abort while the source has not asked for the commit, all of them once it has.
    /// </summary>
    private static int DestinationStepsAfterSourceCrash(int sourceStep) => sourceStep switch
    {
        <= 3 => 0,
        <= 8 => 10,
        _ => Destination,
    };

    /// <summary>The source's steps when its destination dies at <paramref name="destinationStep"/>: the later the death, the further the
    /// source gets.</summary>
    private static int SourceStepsAfterDestinationCrash(int destinationStep) => destinationStep switch
    {
        <= 5 => 10,
        6 => 13,
        <= 10 => 14,
        _ => Source,
    };
}
