using System.Xml.Linq;
using Herald.Storage.Postgres;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Herald.Server.Hosting;

/// <summary>Data Protection's key storage, backed by the shared PostgreSQL database.</summary>
internal sealed class PostgresXmlRepository(PostgresKeyRing ring) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => ring.GetAllElements();

    public void StoreElement(XElement element, string friendlyName) => ring.StoreElement(element, friendlyName);
}
