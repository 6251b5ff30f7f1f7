using SecureMigration.Sanitization;

namespace SecureMigration.Tests.Sanitization;

/// <summary>Which difference a verification whose slots compared out of order reports.</summary>
public sealed class WipeVerifierTests
{
    private const int None = int.MaxValue;

    [Fact]
    public void FirstDifference_IsTheLowestChunksAmongTheSlots()
    {
        (int, long)?[] differences = [(7, 7_000), null, (5, 5_123)];

        Assert.Equal((5, 5_123L), WipeVerifier.FirstDifference(differences, [None, None, None]));
    }

    [Fact]
    public void FirstDifference_AFailurePastIt_DoesNotHideIt()
    {
        // A read's error or a cancellation on chunk 9 leaves chunks 0-4 compared: the difference at 5 stands.
        Assert.Equal((5, 5_123L), WipeVerifier.FirstDifference([(5, 5_123), null], [None, 9]));
    }

    [Fact]
    public void FirstDifference_AFailureBeforeIt_HidesIt()
    {
        // Chunk 3 was never compared: reporting the difference at 5 would call chunks 0-4 verified.
        Assert.Null(WipeVerifier.FirstDifference([(5, 5_123), null], [None, 3]));
    }

    [Fact]
    public void FirstDifference_NoneFound_IsNone()
    {
        Assert.Null(WipeVerifier.FirstDifference([null, null], [None, None]));
    }
}
