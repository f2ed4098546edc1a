/**
 * The accounts, for admins: who may use the service, and a button to disable a hostile account
 * (its tokens stop working at once) or enable it again. An admin cannot disable themselves.
 */
import { useCallback, useEffect, useState } from "react";
import { fetchUsers, setUserActive, type UserItem } from "../adminApi";

interface UsersPanelProps {
  token: string;
  /** The signed-in admin, whose own row has no Disable button. */
  self: string;
  /** Changes when the dashboard's Refresh is pressed. */
  reload: number;
  onError(caught: unknown): void;
}

export function UsersPanel({ token, self, reload, onError }: UsersPanelProps) {
  const [users, setUsers] = useState<UserItem[]>([]);
  const [sending, setSending] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    fetchUsers(token)
      .then((answer) => {
        if (live) setUsers(answer.items);
      })
      .catch((caught) => {
        if (live) onError(caught);
      });
    return () => {
      live = false;
    };
  }, [token, reload, onError]);

  const toggle = useCallback(
    async (user: UserItem) => {
      setSending(user.username);
      try {
        const updated = await setUserActive(user.username, !user.is_active, token);
        setUsers((old) => old.map((item) => (item.username === updated.username ? { ...item, ...updated } : item)));
      } catch (caught) {
        onError(caught);
      } finally {
        setSending(null);
      }
    },
    [token, onError],
  );

  return (
    <section className="space-y-3" aria-labelledby="users-heading" data-testid="users-panel">
      <h2 id="users-heading" className="text-lg font-semibold">
        Accounts
      </h2>
      <div className="max-h-72 overflow-auto rounded-lg ring-1 ring-slate-200">
        <table className="min-w-full divide-y divide-slate-200 bg-white text-sm">
          <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
            <tr>
              <th className="px-3 py-2">User</th>
              <th className="px-3 py-2">Role</th>
              <th className="px-3 py-2">Status</th>
              <th className="px-3 py-2" aria-label="Action" />
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {users.map((user) => (
              <tr key={user.username} data-testid="user-row">
                <td className="px-3 py-2 font-mono">{user.username}</td>
                <td className="px-3 py-2">{user.role}</td>
                <td className="px-3 py-2" data-testid="user-status">
                  {user.is_active ? "enabled" : "disabled"}
                </td>
                <td className="px-3 py-2 text-right">
                  {user.username !== self.toLowerCase() && (
                    <button
                      type="button"
                      data-testid="toggle-user"
                      disabled={sending === user.username}
                      onClick={() => toggle(user)}
                      aria-label={`${user.is_active ? "Disable" : "Enable"} ${user.username}`}
                      className="rounded-md border border-slate-300 px-2.5 py-1 text-xs font-semibold hover:bg-slate-100 disabled:opacity-40"
                    >
                      {user.is_active ? "Disable" : "Enable"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
