using SecureMigration.Text;

namespace SecureMigration.Tests.Text;

/// <summary>Durations in messages read as people write them (issue 16: no seven-decimal durations).</summary>
public sealed class DurationsTests
{
    [Theory]
    [InlineData(0.0, "0 s")]
    [InlineData(2.25, "2.3 s")]
    [InlineData(2.0, "2 s")]
    [InlineData(42.1, "43 s")]
    [InlineData(299.9876543, "5 min")]
    [InlineData(299.0, "4 min 59 s")]
    [InlineData(3900.0, "1 h 5 min")]
    [InlineData(90000.0, "1 d 1 h")]
    [InlineData(-3.0, "0 s")]
    public void Describe_ReadsAsPeopleWriteIt(double seconds, string expected) =>
        Assert.Equal(expected, Durations.Describe(TimeSpan.FromSeconds(seconds)));
}
