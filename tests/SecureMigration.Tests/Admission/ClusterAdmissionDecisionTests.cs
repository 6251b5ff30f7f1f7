using SecureMigration.Admission;

namespace SecureMigration.Tests.Admission;

public sealed class ClusterAdmissionDecisionTests
{
    /// <summary>An admitted decision's denial is empty but readable, as a caller logging it whatever the verdict reads it.</summary>
    [Fact]
    public async Task Admitted_HasNoReason_AndItsMessageSaysSo()
    {
        int completed = 0;
        ClusterAdmissionDecision admitted = ClusterAdmissionDecision.Admit(_ =>
        {
            completed++;
            return ValueTask.CompletedTask;
        });

        Assert.True(admitted.IsAdmitted);
        Assert.Equal(AdmissionDenialReason.None, admitted.Denial.Reason);
        Assert.Equal("The migration was admitted.", admitted.Denial.Message);
        await admitted.CompleteAsync(MigrationOutcome.Succeeded);
        await admitted.CompleteAsync(MigrationOutcome.Failed);
        Assert.Equal(1, completed);
    }
}
