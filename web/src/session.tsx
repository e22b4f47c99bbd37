/**
 * The signed-in person, for every page. The session itself is an HttpOnly cookie the page
 * never sees; what the page holds is who it is and the CSRF token to send back.
 */
import { createContext, useContext } from 'react';
import type { Session } from './types.ts';

export interface SessionContextValue {
  session: Session;
  signOut: () => void;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

/** The signed-in session; only pages rendered inside the signed-in layout call this. */
export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a signed-in page');
  return value;
}
