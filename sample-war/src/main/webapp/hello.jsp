<%@ page contentType="text/plain;charset=UTF-8" trimDirectiveWhitespaces="true" %>
Hello from JSP
contextPath=${pageContext.request.contextPath}
