namespace SecureMigration.Tests.Etcd;

/// <summary>What <see cref="TransactionFaultInterceptor"/> does to one transaction.</summary>
public enum TransactionFault
{
    /// <summary>Passes it.</summary>
    None,

    /// <summary>Lets etcd apply it, then fails the call as unavailable (a repeat follows).</summary>
    LoseAnswer,

    /// <summary>Lets etcd apply it, then fails the call with etcd's own proposal timeout (status Unknown, "context deadline
    /// exceeded").</summary>
    LoseAnswerUnknown,

    /// <summary>Fails the call before it is sent, its deadline passed: a member cut off from its quorum answers nothing.</summary>
    Refuse,
}
