using System.Reflection;
using Herald.Storage.Abstractions;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>A real store seen through a proxy that can watch or steer some of its calls (<see cref="Invoke"/>), the rest passed on as they are.</summary>
public abstract class StoreProxy : DispatchProxy
{
    private IHeraldStore _inner = null!;

    /// <summary><paramref name="inner"/> behind a proxy of type <typeparamref name="T"/>.</summary>
    public static IHeraldStore Over<T>(IHeraldStore inner)
        where T : StoreProxy
    {
        var proxy = Create<IHeraldStore, T>();
        ((T)(object)proxy)._inner = inner;
        return proxy;
    }

    /// <summary>The proxy behind a store made by <see cref="Over{T}"/>.</summary>
    public static T Of<T>(IHeraldStore store)
        where T : StoreProxy => (T)(object)store;

    /// <summary>Passes a call on to the real store, its own exception thrown as it is.</summary>
    protected object? Forward(MethodInfo targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
