namespace SecureMigration.Tests.Etcd;

/// <summary>What <see cref="TransactionFaultInterceptor"/> does to one transaction.</summary>
public enum TransactionFault
{
    /// <summary>Passes it.</summary>
    None,

    /// <summary>Lets etcd apply it, then fails the call as unavailable (a repeat follows).</summary>
    LoseAnswer,

    /// <summary>Fails the call before it is sent, past its deadline (no repeat).</summary>
    Refuse,
}
