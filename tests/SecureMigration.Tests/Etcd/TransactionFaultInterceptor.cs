using Etcdserverpb;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Faults on the etcd transactions a test picks, as a network would cause them: <see cref="TransactionFault.LoseAnswer"/>
/// and <see cref="TransactionFault.LoseAnswerUnknown"/> let etcd apply the transaction and then fail the call (the client
/// must assume it may have been applied); <see cref="TransactionFault.Refuse"/> fails it before it is sent. Every other call
/// passes.
/// </summary>
/// <param name="decide">The fault for a transaction, called once per transaction sent.</param>
public sealed class TransactionFaultInterceptor(Func<TxnRequest, TransactionFault> decide) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        TransactionFault fault = request is TxnRequest transaction ? decide(transaction) : TransactionFault.None;
        if (fault == TransactionFault.Refuse)
        {
            return new AsyncUnaryCall<TResponse>(Task.FromException<TResponse>(Failure(StatusCode.DeadlineExceeded, "refused")),
                Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }

        AsyncUnaryCall<TResponse> call = continuation(request, context);
        return fault == TransactionFault.None ? call : new AsyncUnaryCall<TResponse>(LoseAsync(call.ResponseAsync, fault),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    private static async Task<TResponse> LoseAsync<TResponse>(Task<TResponse> response, TransactionFault fault)
    {
        await response;
        throw fault == TransactionFault.LoseAnswerUnknown ? Failure(StatusCode.Unknown, "context deadline exceeded")
            : Failure(StatusCode.Unavailable, "applied, but the answer was lost");
    }

    private static RpcException Failure(StatusCode code, string what) => new(new Status(code, "test fault: " + what));
}
